//! Filesystem functions: reading files shipped with the configuration (`file`, `fileexists`,
//! `fileset`, `filebase64`, the file hashes), rendering template files (`templatefile`,
//! `templatestring`) and path manipulation (`abspath`, `dirname`, `basename`, `pathexpand`).
//!
//! Relative paths are resolved against the directory of the calling module ([`Context::module_dir`],
//! what `path.module` gives), not against the working directory as in Terraform: the two are the
//! same when tunnelform runs in the configuration's directory, and `"${path.module}/x"` means the
//! same in both. A file outside the configuration may be read, as in Terraform. One file is read
//! at most [`MAX_FILE_BYTES`]; errors name the file and say why it could not be used.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use tunnelform_model::Map;

use base64::Engine as _;
use tunnelform_model::Value;
use tunnelform_syntax::ast::{Expr, ExprKind};
use tunnelform_syntax::{BSpan, SourceFile};

use super::call::{Call, Context, Evaluate};
use super::encoding;
use crate::error::{error, EResult, EvalError, WithHelp};
use crate::values::{self, mark_if};

/// The most a file function reads from one file (the value limits would refuse a larger string).
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The most files `fileset` looks at under its directory.
const MAX_FILESET_ENTRIES: usize = 100_000;
/// The span file id of a template's own text, so its errors can be located in the template.
const TEMPLATE_FILE: u32 = u32::MAX - 1;

/// `~` or `~/...` expanded with `$HOME` (Terraform's file functions do the same).
fn expand_home(c: &Call<'_>, raw: &str, span: BSpan) -> EResult<String> {
    if !raw.starts_with('~') {
        return Ok(raw.to_string());
    }
    let rest = &raw[1..];
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('\\')) {
        return Err(c.err(
            span,
            format!("cannot expand {raw:?}: only ~ (the current user's home directory) is supported, not ~user"),
        ));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| c.err(span, format!("cannot expand {raw:?}: HOME is not set")))?;
    Ok(format!("{}{rest}", home.to_string_lossy()))
}

/// The path a file function reads: absolute as given, or relative to the module's directory.
/// A relative path that already starts with the module's directory (`"${path.module}/x"` when
/// the directory was given relative to the working directory) is taken as it is, as Terraform
/// does.
fn resolve(c: &Call<'_>, raw: &str, span: BSpan) -> EResult<PathBuf> {
    let expanded = expand_home(c, raw, span)?;
    let p = Path::new(&expanded);
    let dir = c.ctx.module_dir();
    let as_written = p.is_absolute()
        || (dir.is_relative()
            && dir != Path::new(".")
            && dir != Path::new("")
            && p.starts_with(dir));
    Ok(if as_written {
        p.to_path_buf()
    } else {
        dir.join(p)
    })
}

/// How a path is named in messages: as written, and where it was looked for when that differs.
fn shown(raw: &str, resolved: &Path) -> String {
    let r = resolved.display().to_string();
    if r == raw {
        format!("{raw:?}")
    } else {
        format!("{raw:?} ({r})")
    }
}

/// The bytes of the file named by argument `i`, at most [`MAX_FILE_BYTES`].
fn read_bytes(c: &Call<'_>, i: usize) -> EResult<(Vec<u8>, String)> {
    let (v, span) = c.arg(i);
    let raw = c.str((v, span))?;
    let path = resolve(c, &raw, span)?;
    let name = shown(&raw, &path);
    let meta = std::fs::metadata(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            c.err(span, format!("no file exists at {name}"))
                .help("file functions read files distributed with the configuration; a file created by a resource of this configuration cannot be read: use that resource's attributes instead")
        } else {
            c.err(span, format!("cannot read {name}: {e}"))
        }
    })?;
    if meta.is_dir() {
        return Err(c.err(span, format!("{name} is a directory, not a file")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big(c, span, &name));
    }
    let mut out = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut out))
        .map_err(|e| c.err(span, format!("cannot read {name}: {e}")))?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(c, span, &name));
    }
    Ok((out, name))
}

fn too_big(c: &Call<'_>, span: BSpan, name: &str) -> Box<EvalError> {
    c.err(
        span,
        format!(
            "{name} is larger than {} MiB, the most a file function reads",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

/// The file named by argument `i` as UTF-8 text.
fn read_text(c: &Call<'_>, i: usize) -> EResult<(String, String)> {
    let (bytes, name) = read_bytes(c, i)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        c.err(c.arg(i).1, format!("the contents of {name} are not valid UTF-8"))
            .help("use filebase64() for binary files, or filesha256() and the other file hashes to fingerprint them")
    })?;
    Ok((text, name))
}

pub(super) fn file(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(read_text(c, 0)?.0))
}

pub(super) fn filebase64(c: &Call<'_>) -> EResult<Value> {
    let (bytes, _) = read_bytes(c, 0)?;
    Ok(Value::string(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

pub(super) fn fileexists(c: &Call<'_>) -> EResult<Value> {
    let (v, span) = c.arg(0);
    let raw = c.str((v, span))?;
    let path = resolve(c, &raw, span)?;
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Ok(Value::Bool(true)),
        Ok(m) if m.is_dir() => Err(c
            .err(
                span,
                format!("{} is a directory, not a file", shown(&raw, &path)),
            )
            .help("fileexists() tells whether a regular file exists")),
        Ok(_) => Err(c.err(
            span,
            format!("{} is not a regular file", shown(&raw, &path)),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(e) => Err(c.err(
            span,
            format!("cannot tell whether {} exists: {e}", shown(&raw, &path)),
        )),
    }
}

/// `fileset(path, pattern)`: the files under `path` whose path relative to it matches `pattern`
/// (`*` and `?` within one path segment, `**` across segments, `{a,b}`, `[...]`), sorted, with
/// forward slashes.
pub(super) fn fileset(c: &Call<'_>) -> EResult<Value> {
    let (dir_v, dir_span) = c.arg(0);
    let raw = c.str((dir_v, dir_span))?;
    let (pat_v, pat_span) = c.arg(1);
    let pattern = c.str((pat_v, pat_span))?;
    let base = resolve(c, &raw, dir_span)?;
    let glob = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| {
            c.err(
                pat_span,
                format!("invalid pattern {pattern:?}: {}", e.kind()),
            )
        })?
        .compile_matcher();
    if !base.is_dir() {
        return Ok(Value::List(Vec::new()));
    }
    let mut out = Vec::new();
    for (n, entry) in walkdir::WalkDir::new(&base)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .enumerate()
    {
        if n > MAX_FILESET_ENTRIES {
            return Err(c.err(
                dir_span,
                format!(
                    "{} holds more than {MAX_FILESET_ENTRIES} files and directories",
                    shown(&raw, &base)
                ),
            ));
        }
        c.ctx.step(c.span)?;
        let entry = entry
            .map_err(|e| c.err(dir_span, format!("cannot list {}: {e}", shown(&raw, &base))))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&base) else {
            continue;
        };
        let rel: Vec<String> = rel
            .components()
            .map(|p| p.as_os_str().to_string_lossy().into_owned())
            .collect();
        let rel = rel.join("/");
        if glob.is_match(&rel) {
            out.push(Value::string(rel));
        }
    }
    Ok(Value::List(out))
}

/// The hash functions of files: the same digests as the string ones, over the file's bytes.
pub(super) fn filemd5(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(hex::encode(encoding::digest_md5(
        &read_bytes(c, 0)?.0,
    ))))
}

pub(super) fn filesha1(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(hex::encode(encoding::digest_sha1(
        &read_bytes(c, 0)?.0,
    ))))
}

pub(super) fn filesha256(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(hex::encode(encoding::digest_sha256(
        &read_bytes(c, 0)?.0,
    ))))
}

pub(super) fn filesha512(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(hex::encode(encoding::digest_sha512(
        &read_bytes(c, 0)?.0,
    ))))
}

pub(super) fn filebase64sha256(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(
        base64::engine::general_purpose::STANDARD
            .encode(encoding::digest_sha256(&read_bytes(c, 0)?.0)),
    ))
}

pub(super) fn filebase64sha512(c: &Call<'_>) -> EResult<Value> {
    Ok(Value::string(
        base64::engine::general_purpose::STANDARD
            .encode(encoding::digest_sha512(&read_bytes(c, 0)?.0)),
    ))
}

/// Whether `name` can be a template variable (an HCL identifier).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

fn template_vars<'v>(c: &Call<'_>, (v, span): (&'v Value, BSpan)) -> EResult<&'v Map> {
    let vars = match v.unmarked() {
        Value::Map(m) => m,
        other => {
            return Err(c.err(
                span,
                format!(
                    "the template variables must be a map or an object, got {}",
                    values::describe_type(other)
                ),
            ))
        }
    };
    if let Some(bad) = vars.keys().find(|k| !is_identifier(k)) {
        return Err(c.err(
            span,
            format!("invalid template variable name {bad:?}: it must start with a letter or underscore, followed by letters, digits, underscores and dashes"),
        ));
    }
    Ok(vars)
}

/// An error raised inside a template's own text, located in it and reported at the call.
fn in_template(mut e: Box<EvalError>, name: &str, text: &str, call: BSpan) -> Box<EvalError> {
    if e.span.file != TEMPLATE_FILE {
        return e;
    }
    let (line, col) = SourceFile::new(name, text).line_col(e.span.start);
    let at = format!("in the template {name}, line {line}, column {col}");
    e.detail = Some(match e.detail.take() {
        Some(d) => format!("{at}: {d}"),
        None => at,
    });
    e.span = call;
    e
}

/// Parses and renders template text with `vars`; errors name the template and the place in it.
fn render(ctx: &dyn Context, name: &str, text: &str, vars: &Map, span: BSpan) -> EResult<Value> {
    let (parts, mut errs) = tunnelform_syntax::with_big_stack(|| {
        tunnelform_syntax::parse_template(TEMPLATE_FILE, text)
    })
    .map_err(|e| in_template(Box::new(e), name, text, span))?;
    if !errs.is_empty() {
        return Err(in_template(Box::new(errs.remove(0)), name, text, span));
    }
    ctx.render_template(parts, vars, BSpan::new(TEMPLATE_FILE, 0..text.len()))
        .map_err(|e| in_template(e, name, text, span))
}

fn no_recursion(c: &Call<'_>) -> EResult<()> {
    if c.ctx.in_template() {
        return Err(error(
            format!("{}() cannot be called from inside a template", c.name),
            c.span,
        )
        .help(
            "render the inner template first and pass its result to the outer one as a variable",
        ));
    }
    Ok(())
}

pub(super) fn templatefile(c: &Call<'_>) -> EResult<Value> {
    no_recursion(c)?;
    let vars = template_vars(c, c.arg(1))?;
    let (text, name) = read_text(c, 0)?;
    render(c.ctx, &name, &text, vars, c.span)
}

/// `templatestring(ref, vars)`: renders a template held in a string. As in Terraform, the first
/// argument must be a reference to a value (`local.tpl`, `data.x.y.body`), not a literal string
/// or template, which would be rendered in the calling module before the call.
pub(super) fn templatestring(ev: &dyn Evaluate, args: &[Expr], span: BSpan) -> EResult<Value> {
    let is_reference = matches!(&args[0].kind, ExprKind::Var(_))
        || matches!(&args[0].kind, ExprKind::Traversal(base, _) if matches!(base.kind, ExprKind::Var(_)));
    if !is_reference {
        return Err(error("Invalid function argument to templatestring()", args[0].span)
            .detail("the template must be given as a reference to a string value, such as local.template")
            .help("write the template in a local value (escape ${ as $${ there) and pass local.NAME; to render a literal template, use a string template directly"));
    }
    let tpl = ev.evaluate(&args[0])?;
    let vars = ev.evaluate(&args[1])?;
    let ctx = ev.context();
    if ctx.in_template() {
        return Err(error(
            "templatestring() cannot be called from inside a template",
            span,
        ));
    }
    let sens = tpl.contains_sensitive() || vars.contains_sensitive();
    if !tpl.is_wholly_known() || !vars.is_wholly_known() {
        return Ok(mark_if(Value::Unknown, sens));
    }
    let (tpl, vars) = (tpl.deep_unmarked(), vars.deep_unmarked());
    let text = super::call::str_arg("templatestring", (&tpl, args[0].span))?;
    let c = Call {
        ctx,
        name: "templatestring",
        args: &[(&tpl, args[0].span), (&vars, args[1].span)],
        span,
    };
    let map = template_vars(&c, (&vars, args[1].span))?;
    let out = render(ctx, "given to templatestring()", &text, map, span)?;
    Ok(mark_if(out, sens))
}

/// Go's `filepath.Clean` on `/`-separated paths: the shortest lexically equivalent path.
fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

pub(super) fn dirname(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|p| {
        let dir = match p.rfind('/') {
            Some(i) => &p[..=i],
            None => "",
        };
        clean(dir)
    })
}

pub(super) fn basename(c: &Call<'_>) -> EResult<Value> {
    c.map_str(|p| {
        if p.is_empty() {
            return ".".into();
        }
        let trimmed = p.trim_end_matches('/');
        if trimmed.is_empty() {
            return "/".into();
        }
        match trimmed.rfind('/') {
            Some(i) => trimmed[i + 1..].to_string(),
            None => trimmed.to_string(),
        }
    })
}

pub(super) fn pathexpand(c: &Call<'_>) -> EResult<Value> {
    let (v, span) = c.arg(0);
    let raw = c.str((v, span))?;
    Ok(Value::string(expand_home(c, &raw, span)?))
}

/// `abspath`: an absolute path, relative ones taken from the working directory (as Terraform).
pub(super) fn abspath(c: &Call<'_>) -> EResult<Value> {
    let (v, span) = c.arg(0);
    let raw = c.str((v, span))?;
    let abs = std::path::absolute(if raw.is_empty() { "." } else { raw.as_str() })
        .map_err(|e| c.err(span, format!("cannot make {raw:?} absolute: {e}")))?;
    Ok(Value::string(clean(
        &abs.to_string_lossy().replace('\\', "/"),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_go_filepath_clean() {
        for (input, want) in [
            ("", "."),
            ("a/b/../c", "a/c"),
            ("/../a", "/a"),
            ("../../a", "../../a"),
            ("a/./b/", "a/b"),
            ("/", "/"),
            ("//a//b", "/a/b"),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("name"));
        assert!(is_identifier("_x-1"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier("a b"));
        assert!(!is_identifier(""));
    }
}
