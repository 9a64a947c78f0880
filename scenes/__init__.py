"""RoadTwin package scenes."""
