"""The peer page for bench_twin: a trivial Streamlit + pydeck page (three points)."""

import pydeck as pdk
import streamlit as st

st.set_page_config(layout="wide")
deck = pdk.Deck(
    layers=[
        pdk.Layer(
            "ScatterplotLayer",
            id="points",
            data=[{"p": [117.2, 39.1]}, {"p": [117.4, 39.0]}, {"p": [117.6, 39.05]}],
            get_position="p",
            get_radius=3000,
            get_fill_color=[255, 99, 71, 255],
            pickable=True,
        )
    ],
    initial_view_state=pdk.ViewState(longitude=117.4, latitude=39.05, zoom=9),
    map_provider=None,
)
st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="deck", height=620)
