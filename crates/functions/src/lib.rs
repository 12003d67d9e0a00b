//! tunnelform's built-in functions (layer 2, below the evaluator in `tunnelform-lang`), and the
//! value helpers they share with it ([`values`], [`error`], [`suggest`]).
//!
//! Built-in functions (Terraform's names and behaviour), as a table: each entry names a
//! function, says how many arguments it takes and how it is called ([`Body`]), and points at
//! its implementation in the module of its family.
//!
//! Unknown arguments give an unknown result, except where the result is decided anyway
//! (`length` of a known list with unknown elements, `lookup` of a known key, `coalesce` whose
//! first usable argument comes before any unknown one...). Sensitive arguments give a sensitive
//! result; functions that pick an element out of a collection keep the element's own marks.
//!
//! Adding a function is one entry in [`TABLE`] and its implementation. A function that needs
//! the calling module's directory (`file`, `templatefile`) reads it from [`Call::ctx`]
//! ([`Context::module_dir`]).

pub mod error;
pub mod suggest;
pub mod values;

mod call;
mod collections;
mod conversions;
mod dates;
mod encoding;
mod files;
mod network;
mod numbers;
mod strings;

use tunnelform_model::Value;
use tunnelform_syntax::BSpan;

pub use call::{arg_err, Args, Arity, Body, Call, Context, Evaluate, Function};
pub use files::MAX_FILE_BYTES;

use crate::error::{too_large, EResult};
use crate::values::{mark_if, MAX_VALUE_WEIGHT};

const ONE: Arity = Arity::exactly(1);
const TWO: Arity = Arity::exactly(2);
const THREE: Arity = Arity::exactly(3);

/// Every built-in function, sorted by name.
pub static TABLE: &[Function] = &[
    Function::known("abs", ONE, numbers::abs),
    Function::known("abspath", ONE, files::abspath),
    Function::known("alltrue", ONE, collections::alltrue),
    Function::known("anytrue", ONE, collections::anytrue),
    Function::known("base64decode", ONE, encoding::base64decode),
    Function::known("base64encode", ONE, encoding::base64encode),
    Function::known("base64gzip", ONE, encoding::base64gzip),
    Function::known("base64sha256", ONE, encoding::base64sha256),
    Function::known("base64sha512", ONE, encoding::base64sha512),
    Function::known("basename", ONE, files::basename),
    Function::marked("bcrypt", Arity::between(1, 2), dates::impure),
    Function::lazy("can", ONE, conversions::can),
    Function::known("ceil", ONE, numbers::ceil),
    Function::known("chomp", ONE, strings::chomp),
    Function::known("chunklist", TWO, collections::chunklist),
    Function::known("cidrhost", TWO, network::cidrhost),
    Function::known("cidrnetmask", ONE, network::cidrnetmask),
    Function::known("cidrsubnet", THREE, network::cidrsubnet),
    Function::known("cidrsubnets", Arity::at_least(1), network::cidrsubnets),
    Function::marked("coalesce", Arity::at_least(1), collections::coalesce),
    Function::known(
        "coalescelist",
        Arity::at_least(1),
        collections::coalescelist,
    ),
    Function::known("compact", ONE, collections::compact),
    Function::marked("concat", Arity::at_least(0), collections::concat),
    Function::marked("contains", TWO, collections::contains).borrowing(),
    Function::known("csvdecode", ONE, encoding::csvdecode),
    Function::known("dirname", ONE, files::dirname),
    Function::known("distinct", ONE, collections::distinct),
    Function::marked("element", TWO, collections::element).borrowing(),
    Function::known("endswith", TWO, strings::endswith),
    Function::marked("ephemeralasnull", ONE, conversions::ephemeralasnull),
    Function::known("file", ONE, files::file),
    Function::known("filebase64", ONE, files::filebase64),
    Function::known("filebase64sha256", ONE, files::filebase64sha256),
    Function::known("filebase64sha512", ONE, files::filebase64sha512),
    Function::known("fileexists", ONE, files::fileexists),
    Function::known("filemd5", ONE, files::filemd5),
    Function::known("fileset", TWO, files::fileset),
    Function::known("filesha1", ONE, files::filesha1),
    Function::known("filesha256", ONE, files::filesha256),
    Function::known("filesha512", ONE, files::filesha512),
    Function::known("flatten", ONE, collections::flatten),
    Function::known("floor", ONE, numbers::floor),
    Function::known("format", Arity::at_least(1), strings::format),
    Function::known("formatdate", TWO, dates::formatdate),
    Function::known("formatlist", Arity::at_least(1), strings::formatlist),
    Function::known("indent", TWO, strings::indent),
    Function::marked("index", TWO, collections::index).borrowing(),
    Function::marked("issensitive", ONE, conversions::issensitive),
    Function::known("join", Arity::at_least(2), strings::join),
    Function::known("jsondecode", ONE, encoding::jsondecode),
    Function::known("jsonencode", ONE, encoding::jsonencode),
    Function::marked("keys", ONE, collections::keys).borrowing(),
    Function::marked("length", ONE, collections::length).borrowing(),
    Function::known("log", TWO, numbers::log),
    Function::marked("lookup", Arity::between(2, 3), collections::lookup).borrowing(),
    Function::known("lower", ONE, strings::lower),
    Function::known("matchkeys", THREE, collections::matchkeys),
    Function::known("max", Arity::at_least(1), numbers::max),
    Function::known("md5", ONE, encoding::md5),
    Function::marked("merge", Arity::at_least(0), collections::merge),
    Function::known("min", Arity::at_least(1), numbers::min),
    Function::marked("nonsensitive", ONE, conversions::nonsensitive),
    Function::marked("one", ONE, collections::one),
    Function::known("parseint", TWO, numbers::parseint),
    Function::known("pathexpand", ONE, files::pathexpand),
    Function::marked("plantimestamp", Arity::exactly(0), dates::impure),
    Function::known("pow", TWO, numbers::pow),
    Function::known("range", Arity::between(1, 3), collections::range),
    Function::known("regex", TWO, strings::regex),
    Function::known("regexall", TWO, strings::regexall),
    Function::known("replace", THREE, strings::replace),
    Function::known("reverse", ONE, collections::reverse),
    Function::marked("rsadecrypt", TWO, dates::unsupported),
    Function::marked("sensitive", ONE, conversions::sensitive),
    Function::known(
        "setintersection",
        Arity::at_least(2),
        collections::setintersection,
    ),
    Function::known("setproduct", Arity::at_least(2), collections::setproduct),
    Function::known("setsubtract", Arity::at_least(2), collections::setsubtract),
    Function::known("setunion", Arity::at_least(2), collections::setunion),
    Function::known("sha1", ONE, encoding::sha1),
    Function::known("sha256", ONE, encoding::sha256),
    Function::known("sha512", ONE, encoding::sha512),
    Function::known("signum", ONE, numbers::signum),
    Function::known("slice", THREE, collections::slice),
    Function::known("sort", ONE, collections::sort),
    Function::known("split", TWO, strings::split),
    Function::known("startswith", TWO, strings::startswith),
    Function::known("strcontains", TWO, strings::strcontains),
    Function::known("strrev", ONE, strings::strrev),
    Function::known("substr", THREE, strings::substr),
    Function::known("sum", ONE, numbers::sum),
    Function::known("templatefile", TWO, files::templatefile),
    Function::lazy("templatestring", TWO, files::templatestring),
    Function::known("timeadd", TWO, dates::timeadd),
    Function::known("timecmp", TWO, dates::timecmp),
    Function::marked("timestamp", Arity::exactly(0), dates::impure),
    Function::known("title", ONE, strings::title),
    Function::marked("tobool", ONE, conversions::tobool),
    Function::marked("tolist", ONE, conversions::tolist),
    Function::marked("tomap", ONE, conversions::tomap),
    Function::marked("tonumber", ONE, conversions::tonumber),
    Function::marked("toset", ONE, conversions::toset),
    Function::marked("tostring", ONE, conversions::tostring),
    Function::known("transpose", ONE, collections::transpose),
    Function::known("trim", TWO, strings::trim),
    Function::known("trimprefix", TWO, strings::trimprefix),
    Function::known("trimspace", ONE, strings::trimspace),
    Function::known("trimsuffix", TWO, strings::trimsuffix),
    Function::lazy("try", Arity::at_least(1), conversions::try_),
    Function::known("upper", ONE, strings::upper),
    Function::known("urlencode", ONE, encoding::urlencode),
    Function::marked("uuid", Arity::exactly(0), dates::impure),
    Function::known("uuidv5", TWO, encoding::uuidv5),
    Function::marked("values", ONE, collections::values),
    Function::known("yamldecode", ONE, encoding::yamldecode),
    Function::known("yamlencode", ONE, encoding::yamlencode),
    Function::marked("zipmap", TWO, collections::zipmap),
];

/// The function called `name`.
pub fn lookup(name: &str) -> Option<&'static Function> {
    TABLE
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| &TABLE[i])
}

/// Every function name, sorted (for "did you mean").
pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    TABLE.iter().map(|f| f.name)
}

/// Calls an eagerly evaluated function (not a [`Body::Lazy`] one) with its arguments.
pub fn call(ctx: &dyn Context, f: &Function, args: &Args<'_>, span: BSpan) -> EResult<Value> {
    call_checked(ctx, f, args, span).map_err(|mut e| {
        // Error details may quote argument values: never a sensitive one.
        if args.iter().any(|(v, _)| v.contains_sensitive()) {
            e.detail = Some("details hidden because an argument is sensitive".into());
            e.help = None;
        }
        e
    })
}

fn call_checked(ctx: &dyn Context, f: &Function, args: &Args<'_>, span: BSpan) -> EResult<Value> {
    // A wrong call is wrong whatever the values.
    f.arity.check(f.name, args.len(), span)?;
    let c = Call {
        ctx,
        name: f.name,
        args,
        span,
    };
    let v = match f.body {
        Body::Marked(body) => body(&c)?,
        Body::Known(body) => known(&c, body)?,
        Body::Lazy(_) => {
            return Err(crate::error::error(
                format!("{}() cannot be called with evaluated arguments", f.name),
                span,
            ))
        }
    };
    // Functions that build collections may not build huge ones (concat of concat of ...).
    if matches!(
        v.unmarked(),
        Value::List(_) | Value::Map(_) | Value::String(_)
    ) && !f.borrows_first
        && values::weight(&v, MAX_VALUE_WEIGHT).0 > MAX_VALUE_WEIGHT
    {
        return Err(too_large(span));
    }
    Ok(v)
}

/// A [`Body::Known`] call: unknown in, unknown out; sensitive in, sensitive out.
fn known(c: &Call<'_>, body: fn(&Call<'_>) -> EResult<Value>) -> EResult<Value> {
    let sens = c.args.iter().any(|(v, _)| v.contains_sensitive());
    if c.args.iter().any(|(v, _)| !v.is_wholly_known()) {
        return Ok(mark_if(Value::Unknown, sens));
    }
    if !sens {
        return body(c);
    }
    let owned: Vec<Value> = c.args.iter().map(|(v, _)| v.deep_unmarked()).collect();
    let plain: Vec<(&Value, BSpan)> = owned
        .iter()
        .zip(c.args)
        .map(|(v, (_, s))| (v, *s))
        .collect();
    let unmarked = Call {
        ctx: c.ctx,
        name: c.name,
        args: &plain,
        span: c.span,
    };
    Ok(mark_if(body(&unmarked)?, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_every_name_is_found() {
        assert!(TABLE.windows(2).all(|w| w[0].name < w[1].name));
        for f in TABLE {
            assert_eq!(lookup(f.name).map(|g| g.name), Some(f.name));
        }
        assert!(lookup("nosuchfunction").is_none());
        assert_eq!(TABLE.len(), 116);
    }

    struct Here;

    impl Context for Here {
        fn step(&self, _span: BSpan) -> EResult<()> {
            Ok(())
        }
        fn module_dir(&self) -> &std::path::Path {
            std::path::Path::new("/modules/site")
        }
        fn render_template(
            &self,
            _parts: Vec<tunnelform_syntax::ast::TemplatePart>,
            _vars: &tunnelform_model::Map,
            span: BSpan,
        ) -> EResult<Value> {
            Err(crate::error::error(
                "no template is rendered in these tests",
                span,
            ))
        }
    }

    fn call_named(name: &str, args: &[Value]) -> EResult<Value> {
        let f = lookup(name).expect("a built-in function");
        let args: Vec<(&Value, BSpan)> = args.iter().map(|v| (v, BSpan::default())).collect();
        call(&Here, f, &args, BSpan::default())
    }

    #[test]
    fn a_wrong_call_is_wrong_even_with_unknown_arguments() {
        let e = call_named("upper", &[Value::Unknown, Value::Unknown]).unwrap_err();
        assert_eq!(e.summary, "Wrong number of arguments to upper()");
        assert_eq!(
            e.detail.as_deref(),
            Some("upper() takes 1 argument(s), got 2")
        );
        assert_eq!(
            call_named("upper", &[Value::Unknown]).unwrap(),
            Value::Unknown
        );
        assert_eq!(
            call_named("upper", &["a".into()]).unwrap(),
            Value::from("A")
        );
    }

    #[test]
    fn known_functions_see_no_marks_and_mark_their_result() {
        let v = call_named("upper", &[Value::sensitive("a".into())]).unwrap();
        assert_eq!(v, Value::sensitive("A".into()));
        // Marked ones keep an element's own marks.
        let list = Value::List(vec![Value::sensitive("s".into()), "p".into()]);
        assert_eq!(
            call_named("element", &[list, Value::int(1)]).unwrap(),
            Value::from("p")
        );
    }
}
