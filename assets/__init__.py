"""RoadTwin package assets."""
