"""Text processing: tokenizers, phonemisation, cleaners."""
