"""RoadTwin package road_network."""
