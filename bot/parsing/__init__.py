"""Vietnamese as people type it: pure parsing of questions, numbers and dates."""
