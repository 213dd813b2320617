"""The engines' random test models and the rule writing them (//python:testmodels spec)."""

# (target name, spec in metalchat.testmodels, format, group size); the output is <name>.mcm (.bin for
# inferpi).
TEST_MODELS = [
    ("llama_mha_shared_f32", "llama_mha_shared", "f32", 0),
    ("llama_gqa_wcls_f32", "llama_gqa_wcls", "f32", 0),
    ("llama_odd_mqa_f32", "llama_odd_mqa", "f32", 0),
    ("llama_gqa_wcls_f16", "llama_gqa_wcls", "f16", 0),
    ("llama_gqa_wcls_q8", "llama_gqa_wcls", "q8", 4),
    ("llama_gqa_wcls_q4", "llama_gqa_wcls", "q4", 4),
    ("llama_odd_mqa_inferpi", "llama_odd_mqa", "inferpi", 0),
    ("nanochat_windows_gqa_f32", "nanochat_windows_gqa", "f32", 0),
    ("nanochat_mha_odd_f32", "nanochat_mha_odd", "f32", 0),
    ("nanochat_mqa_full_f32", "nanochat_mqa_full", "f32", 0),
    ("nanochat_windows_gqa_f16", "nanochat_windows_gqa", "f16", 0),
    ("nanochat_windows_gqa_q8", "nanochat_windows_gqa", "q8", 32),
    ("nanochat_mqa_full_q4", "nanochat_mqa_full", "q4", 8),
    ("llama_odd_mqa_v0", "llama_odd_mqa", "v0", 0),
    ("llama_gqa_wcls_v2", "llama_gqa_wcls", "v2", 4),
    ("llama_tiny_f32", "llama_tiny", "f32", 0),
    ("llama_tiny_f16", "llama_tiny", "f16", 0),
    ("llama_tiny_q8", "llama_tiny", "q8", 4),
    ("llama_tiny_q4", "llama_tiny", "q4", 4),
    ("llama_tiny_v0", "llama_tiny", "v0", 0),
    ("llama_tiny_inferpi", "llama_tiny", "inferpi", 0),
    ("llama_tiny_v2", "llama_tiny", "v2", 4),
    ("nanochat_tiny_f32", "nanochat_tiny", "f32", 0),
    ("nanochat_tiny_q8", "nanochat_tiny", "q8", 4),
    ("tokseed_llama", "llama_odd_mqa", "tokseed", 0),
    ("tokseed_nanochat", "nanochat_mqa_full", "tokseed", 0),
]

def test_model(name, spec, fmt, group_size, seed = 1):
    out = name + {"inferpi": ".bin", "tokseed": ".seed", "v0": ".bin", "v1": ".bin", "v2": ".bin"}.get(fmt, ".mcm")
    native.genrule(
        name = name,
        outs = [out],
        cmd = "$(execpath //python:testmodels) spec %s %s --group-size %d --seed %d -o $@" % (spec, fmt, group_size, seed),
        tools = ["//python:testmodels"],
        testonly = True,
    )
