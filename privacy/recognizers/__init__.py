"""Recognizers for the PII that customer free text carries, in English and Chinese.

Each recognizer judges its own context: spaCy's blank pipelines give no lemmas and split
Chinese into single characters, so Presidio's lemma-based context enhancer cannot see
words such as 护照 or 身份证.
"""
