"""One module per figure of bench/run; each holds a mixin of class Bench and its table rows."""
