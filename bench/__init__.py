"""The tfgen benchmark: synthetic projects (synth.py), one measurement per process
(measure.py) and the runner that prints the table (run.py, ``python -m bench``)."""
