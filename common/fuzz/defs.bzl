"""fuzz_test: an LLVMFuzzerTestOneInput target as a cc_test over the one deterministic driver."""

# Undefined behaviour aborts (zig ships UBSan, not ASan or libFuzzer): the fuzz targets and the
# code they fuzz are compiled with these.
FUZZ_COPTS = [
    "-fsanitize=undefined",
    "-fno-sanitize-recover=all",
]

def fuzz_test(name, srcs, seeds, iterations, deps = [], data = [], copts = [], size = "small", **kwargs):
    """`name` runs srcs' LLVMFuzzerTestOneInput on `iterations` mutants of the seed files.

    Args:
      name: the test (fuzz_<what>).
      srcs: the target and the sources it fuzzes (compiled with FUZZ_COPTS).
      seeds: seed files (labels): small committed ones or build outputs.
      iterations: mutants run per test (a few seconds' worth).
      deps: headers and libraries (a library's own code is not built with UBSan: list its
        sources in srcs instead).
      data: more files the target reads (named through env).
      copts: more compiler flags.
      size: the test size.
      **kwargs: common attributes (env, tags...).
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs,
        args = [str(iterations), "0x5eed"] + ["$(rootpath %s)" % s for s in seeds],
        copts = FUZZ_COPTS + copts,
        data = seeds + data,
        linkopts = ["-fsanitize=undefined"],
        deps = deps + ["//common/fuzz:driver"],
        **kwargs
    )
