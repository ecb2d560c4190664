"""What the notebooks show: the set-up cell, the plot style, tables and figures of grid results,
the interactive figures (live and kernel-free) and the findings that the prose glues in."""
