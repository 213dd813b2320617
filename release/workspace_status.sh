#!/usr/bin/env bash
# Bazel's --workspace_status_command (.bazelrc): the source commit for the release provenance,
# "<sha1>" or "<sha1>-dirty" when tracked files differ from it, "unknown" outside a git clone.
# Only //release reads it (through a small action whose output is the commit alone), so no
# other action's cache key depends on it. `bazel run //release:verify` runs it in the checkout.
commit="$(git rev-parse HEAD 2>/dev/null)" || commit=unknown
if [[ "$commit" != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then
  commit="$commit-dirty"
fi
echo "STABLE_METALCHAT_COMMIT $commit"
