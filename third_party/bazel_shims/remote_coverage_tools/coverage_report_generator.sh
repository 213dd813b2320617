#!/bin/sh
echo "coverage reports are not generated through Bazel in this repository" >&2
exit 1
