"""Speech training toolkit: reusable parts for Kaldi-style recipes."""
