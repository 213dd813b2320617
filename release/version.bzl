"""The release version: `bazel build //release` makes metalchat-<VERSION>.tar. Raise it to release."""

VERSION = "0.1.0"
