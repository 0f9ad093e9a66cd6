"""The data-size estimator tool (`estimate_data`): the card table, refined, and learning curves."""
