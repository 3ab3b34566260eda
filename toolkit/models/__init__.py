"""Full models assembled from layers: asr/, sep/, tts/, vocoder/, lm/."""
