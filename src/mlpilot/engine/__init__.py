"""Where data lives: Ibis connections and the expressions that reduce tables to small summaries.

Each monitor's engine half builds Ibis expressions — one aggregate per table where it can — so
the same code runs on DuckDB (the embedded default) and on any engine Ibis reaches. Only the
small results (counts, sums, histograms, quantiles) come back to Python.
"""
