"""What a test adds to read ../shared/testdata: `data = SHARED_TESTDATA, env = SHARED_TESTDATA_ENV`."""

SHARED_TESTDATA = ["@shared_testdata//:files"]

# Relative to the test's working directory (its runfiles root); C and Python tests read it.
SHARED_TESTDATA_ENV = {"METALCHAT_TESTDATA": "../shared_testdata"}
