"""release_bundle / xz_file: the rules of //release (see release/README.md)."""

load(":version.bzl", "VERSION")

def _xz_file_impl(ctx):
    out = ctx.actions.declare_file(ctx.attr.out)
    ctx.actions.run(
        executable = ctx.executable._pack,
        arguments = ["xz", ctx.file.src.path, out.path],
        inputs = [ctx.file.src],
        outputs = [out],
        mnemonic = "Xz",
        progress_message = "Compressing %s" % ctx.file.src.short_path,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

xz_file = rule(
    implementation = _xz_file_impl,
    doc = "`out`: `src` compressed with xz at the release's fixed settings (same bytes every time).",
    attrs = {
        "out": attr.string(mandatory = True),
        "src": attr.label(allow_single_file = True, mandatory = True),
        "_pack": attr.label(default = "//release:pack", executable = True, cfg = "exec"),
    },
)

def _release_bundle_impl(ctx):
    top = "metalchat-" + VERSION
    folder = ctx.actions.declare_directory(top)
    tar = ctx.actions.declare_file(top + ".tar")

    # The commit comes from the workspace status (release/workspace_status.sh) through a small
    # action whose output is the commit alone: the packing action's key then depends on the
    # commit, not on the host or user names that stable-status.txt also carries.
    commit = ctx.actions.declare_file(ctx.label.name + "_commit.txt")
    ctx.actions.run(
        executable = ctx.executable._pack,
        arguments = ["commit", ctx.info_file.path, commit.path],
        inputs = [ctx.info_file],
        outputs = [commit],
        mnemonic = "SourceCommit",
        progress_message = "Reading the source commit",
    )

    args = ctx.actions.args()
    args.add_all(["pack", "--top", top, "--dir", folder.path, "--tar", tar.path, "--commit", commit])
    inputs = [commit]
    for target, repo_path in ctx.attr.checkout_files.items():
        f = target.files.to_list()
        if len(f) != 1:
            fail("%s: checkout file %s must be one file" % (ctx.label, target.label))
        args.add("--checkout", "%s=%s" % (repo_path, f[0].path))
        inputs.append(f[0])
    for target, dest in ctx.attr.files.items():
        files = target.files.to_list()
        if dest.endswith("/"):
            for f in files:
                args.add("--file", "%s%s=%s" % (dest, f.basename, f.path))
        elif len(files) == 1:
            args.add("--file", "%s=%s" % (dest, files[0].path))
        else:
            fail("%s: %s has %d files; give a folder (ending in /) as its place" % (ctx.label, target.label, len(files)))
        inputs.extend(files)
    ctx.actions.run(
        executable = ctx.executable._pack,
        arguments = [args],
        inputs = inputs,
        outputs = [folder, tar],
        mnemonic = "Release",
        progress_message = "Packing %s.tar" % top,
    )
    return [
        DefaultInfo(files = depset([tar, folder]), runfiles = ctx.runfiles(files = [tar, folder])),
        OutputGroupInfo(commit = depset([commit])),
    ]

release_bundle = rule(
    implementation = _release_bundle_impl,
    doc = """metalchat-<VERSION>/ and metalchat-<VERSION>.tar (VERSION from release/version.bzl):
`files` at their places, PROVENANCE.json (from `checkout_files` and the source commit) and
SHA256SUMS. Same sources and commit, same bytes.""",
    attrs = {
        "checkout_files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "file -> its path in the repository (release/artifacts.py: VERSION_FILE, PINNED_FILES)",
        ),
        "files": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "target -> place in the release: a file name, or a folder ending in / for all its files",
        ),
        "_pack": attr.label(default = "//release:pack", executable = True, cfg = "exec"),
    },
)
