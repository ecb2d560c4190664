"""The maths of the book, with NumPy only: constants, the weight schedules (NumPy and torch twins),
the losses, the metrics, the statistics and the one seeding helper. Nothing here reads files."""
