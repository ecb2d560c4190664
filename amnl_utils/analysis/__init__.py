"""One module per question a section asks of the maths: where the gradient goes (§14.1), what a
schedule must satisfy (§14.2), the moments of the weight and what Adam makes of w_max (§14.3)."""
