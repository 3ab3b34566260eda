"""The released ClearerVoice-Studio MossFormer2 separation networks: MossFormer2 kwargs and sample rate.

From ClearerVoice-Studio's config/inference/MossFormer2_SS_16K.yaml (clearvoice 0.1.2) and
train/speech_separation/config/{train,inference}/MossFormer2_SS_8K.yaml: the 8 kHz model has the
same network as the 16 kHz one (both are built by the same class); only the sample rate differs.
"""
_NETWORK = {"num_spks": 2, "encoder_kernel_size": 16, "encoder_embedding_dim": 512,
            "mossformer_sequence_dim": 512, "num_mossformer_layer": 24}

MOSSFORMER2_CONFIGS = {
    "MossFormer2_SS_16K": {**_NETWORK, "fs": 16000},
    "MossFormer2_SS_8K": {**_NETWORK, "fs": 8000},
}


def network_kwargs(name):
    """(MossFormer2 keyword arguments, sample rate) of the released network `name`."""
    conf = dict(MOSSFORMER2_CONFIGS[name])
    return conf, conf.pop("fs")
