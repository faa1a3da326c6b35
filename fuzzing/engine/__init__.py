"""The adversarial, property-judged fuzzing engine (docs/fuzzing-engine.md).

`campaign.run_campaign` is the entry point; `research/fuzz.py` is its command line.
"""
