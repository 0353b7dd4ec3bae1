"""The social platform: actions, storage, time, rendering and recommenders."""
