"""Module sources, interfaces and the module lock (``tfgen modules lock``)."""
