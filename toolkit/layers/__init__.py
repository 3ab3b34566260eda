"""Network building blocks shared by the models: attention, conformer, transformer, LoRA, ..."""
