"""Benchmarks of PhotoFlow: the imaging core, its memory, the local stack and the cost per photo.

``python -m bench`` (``make bench``) runs everything, prints the figures side by
side with the machine they were measured on, checks them against the targets
and exits non-zero when a target is missed. Kept out of the test suite: timings
on shared machines are noisy, so they are medians of interleaved runs, and the
targets are ratios measured in the same run.
"""
