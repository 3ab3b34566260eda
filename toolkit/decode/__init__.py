"""ASR decoding. Token ids: blank = 0, <sos> = <eos> = vocab_size - 1.

Import from the modules (some share their function's name):
  ctc_greedy.ctc_greedy                  batched best-path decoding
  ctc_prefix_beam.ctc_prefix_beam_search CTC prefix beam search (no LM)
  ctc_prefix_score.CTCPrefixScorer       CTC prefix scores for label-synchronous search
  beam_search.beam_search                joint CTC/attention beam search, LM shallow fusion
  lm_adapter.RNNLMStep                   lm_step adapter for models.lm.rnn_lm.RNNLM
  rescoring.attention_rescoring          attention rescoring of a CTC n-best list
"""
