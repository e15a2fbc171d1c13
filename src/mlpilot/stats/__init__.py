"""Pure numerical inference on small arrays of sufficient statistics (numpy, scipy).

Nothing here sees raw rows: the engine half (``mlpilot.engine``) reduces tables to counts,
sums and histograms first.
"""
