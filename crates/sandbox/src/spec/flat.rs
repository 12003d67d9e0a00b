//! Flattened parameters, as API 3.0 `GET` requests carry them in the query string.
//!
//! Tencent's official SDKs send `GET /?<urlencoded params>` (with `Content-Type:
//! application/x-www-form-urlencoded`, signed over the query string exactly as sent) after flattening the
//! request's JSON: list elements get their index and object members their name, joined by dots
//! (`Filters.0.Name=vpc-id`, `Filters.0.Values.0=vpc-abc`, `IKEOptionsSpecification.PropoEncryAlgorithm=...`);
//! unset members and empty lists send nothing; every leaf becomes its text (Python's `str`, so booleans are
//! `True`/`False`), form-encoded (`+` for a space).
//!
//! [`ServiceSpec::params_from_query`] turns such a query back into the JSON object the `POST` path validates. The
//! spec types each leaf (integer, float, boolean or string: DescribeVpcs' `Limit` is declared a string and
//! stays one) and tells lists from objects. Unknown names give `UnknownParameter`; values that do not parse as
//! the declared type, lists with gaps in their indices, a list or object given as a single value,
//! duplicate names and names that contradict each other (`A.0` and `A.B`, or `A` and `A.B`) give
//! `InvalidParameter`. Required members are checked afterwards by [`ServiceSpec::validate`].

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use super::{join, type_error, ServiceSpec, Ty};
use crate::error::{codes, ApiError, ApiResult};

/// The deepest name accepted (`A.0.B.0` has four segments; the specs nest far less).
const MAX_SEGMENTS: usize = 16;

/// A node of the tree the flattened names describe.
#[derive(Debug)]
enum Node {
    /// `A=value`.
    Leaf(String),
    /// `A.x=...`: the children by segment, in the order first seen.
    Branch(Branch),
}

#[derive(Debug)]
struct Branch {
    /// Whether the children are list indices (`0`, `1`, ...) rather than member names.
    indexed: bool,
    /// The first full name given under this node (for messages).
    first: String,
    children: IndexMap<String, Node>,
}

impl Node {
    /// A full name given at or under this node.
    fn example(&self, path: &str) -> String {
        match self {
            Node::Leaf(_) => path.to_string(),
            Node::Branch(b) => b.first.clone(),
        }
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::new(codes::INVALID_PARAMETER, message)
}

/// Whether a segment is a list index: decimal digits without a leading zero (`0`, `1`, `12`).
fn is_index(segment: &str) -> bool {
    !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'))
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte; the result must
/// be UTF-8.
pub(crate) fn form_decode(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("`{raw}` has a malformed percent-escape"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("`{raw}` does not decode to UTF-8"))
}

/// Splits a query string into decoded `(name, value)` pairs (a name without `=` has an empty value).
pub(crate) fn parse_pairs(query: &str) -> ApiResult<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name)
                .map_err(|e| invalid(format!("The query string is malformed: {e}.")))?;
            let value = form_decode(value).map_err(|e| {
                invalid(format!(
                    "The value of parameter `{name}` is malformed: {e}."
                ))
            })?;
            Ok((name, value))
        })
        .collect()
}

/// Builds the tree of flattened names, rejecting malformed, duplicate and contradicting names.
fn build_tree(pairs: Vec<(String, String)>) -> ApiResult<IndexMap<String, Node>> {
    let mut root: IndexMap<String, Node> = IndexMap::new();
    for (name, value) in pairs {
        let segments: Vec<&str> = name.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(invalid(format!(
                "The parameter name `{name}` is malformed (an empty segment between dots)."
            )));
        }
        if segments.len() > MAX_SEGMENTS {
            return Err(invalid(format!(
                "The parameter name `{name}` nests deeper than {MAX_SEGMENTS} levels."
            )));
        }
        let mut level = &mut root;
        let mut prefix_len = 0;
        for (depth, segment) in segments.iter().enumerate() {
            let here = &name[..prefix_len + segment.len()];
            let last = depth + 1 == segments.len();
            if last {
                match level.get(*segment) {
                    None => {
                        level.insert((*segment).to_string(), Node::Leaf(value));
                    }
                    Some(Node::Leaf(_)) => {
                        return Err(invalid(format!(
                            "The parameter `{name}` is given more than once."
                        )));
                    }
                    Some(Node::Branch(b)) => {
                        return Err(contradiction(&name, &b.first, here));
                    }
                }
                break;
            }
            let next = segments[depth + 1];
            let node = level.entry((*segment).to_string()).or_insert_with(|| {
                Node::Branch(Branch {
                    indexed: is_index(next),
                    first: name.clone(),
                    children: IndexMap::new(),
                })
            });
            let branch = match node {
                Node::Leaf(_) => return Err(contradiction(here, &name, here)),
                Node::Branch(b) => b,
            };
            if branch.indexed != is_index(next) {
                return Err(invalid(format!(
                    "The parameters `{}` and `{name}` contradict each other: `{here}` cannot be both a list \
                     and an object.",
                    branch.first
                )));
            }
            level = &mut branch.children;
            prefix_len += segment.len() + 1;
        }
    }
    Ok(root)
}

/// `A=...` together with `A.B=...`.
fn contradiction(value_name: &str, nested_name: &str, at: &str) -> ApiError {
    invalid(format!(
        "The parameters `{value_name}` and `{nested_name}` contradict each other: `{at}` cannot be both a \
         single value and a list or object."
    ))
}

fn scalar_value(ty: &Ty, text: String, path: &str) -> ApiResult<Value> {
    let value = match ty {
        Ty::Str => Some(Value::String(text)),
        Ty::Int { signed: true } => text
            .parse::<i64>()
            .map(Number::from)
            .or_else(|_| text.parse::<u64>().map(Number::from))
            .ok()
            .map(Value::Number),
        Ty::Int { signed: false } => text.parse::<u64>().ok().map(|n| Value::Number(n.into())),
        Ty::Float => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number),
        Ty::Bool => {
            if text.eq_ignore_ascii_case("true") {
                Some(Value::Bool(true))
            } else if text.eq_ignore_ascii_case("false") {
                Some(Value::Bool(false))
            } else {
                None
            }
        }
        Ty::Object(_) | Ty::List(_) => None,
    };
    value.ok_or_else(|| type_error(path, ty))
}

impl ServiceSpec {
    /// Converts the flattened parameters of a `GET` query string into the JSON object of `action`'s input,
    /// typing each value by the spec. The result still has to pass [`ServiceSpec::validate`].
    pub fn params_from_query(&self, action: &str, query: &str) -> ApiResult<Map<String, Value>> {
        let Some(&input) = self.actions.get(action) else {
            return Err(ApiError::new(
                codes::INVALID_ACTION,
                format!("The action `{action}` is not supported."),
            ));
        };
        let tree = build_tree(parse_pairs(query)?)?;
        self.typed_object(input, tree, "")
    }

    fn typed_object(
        &self,
        object: usize,
        children: IndexMap<String, Node>,
        path: &str,
    ) -> ApiResult<Map<String, Value>> {
        let members = &self.objects[object].members;
        let mut out = Map::new();
        for (name, node) in children {
            let full = join(path, &name);
            let Some(member) = members.iter().find(|m| m.name == name) else {
                return Err(ApiError::new(
                    codes::UNKNOWN_PARAMETER,
                    format!("The parameter `{}` is not recognized.", node.example(&full)),
                ));
            };
            let value = self.typed_value(&member.ty, node, &full)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    fn typed_value(&self, ty: &Ty, node: Node, path: &str) -> ApiResult<Value> {
        match (ty, node) {
            (Ty::Object(_) | Ty::List(_), Node::Leaf(_)) => Err(type_error(path, ty)),
            (Ty::Object(o), Node::Branch(b)) => {
                Ok(Value::Object(self.typed_object(*o, b.children, path)?))
            }
            (Ty::List(elem), Node::Branch(b)) => {
                if !b.indexed {
                    return Err(invalid(format!(
                        "The parameter `{path}` is a list: its elements are named `{path}.0`, `{path}.1`, ... \
                         (got `{}`).",
                        b.first
                    )));
                }
                let mut items: Vec<(usize, Node)> = Vec::with_capacity(b.children.len());
                for (segment, node) in b.children {
                    let index = segment.parse::<usize>().map_err(|_| {
                        invalid(format!("The list index `{path}.{segment}` is too large."))
                    })?;
                    items.push((index, node));
                }
                items.sort_by_key(|(i, _)| *i);
                let mut out = Vec::with_capacity(items.len());
                for (expected, (index, node)) in items.into_iter().enumerate() {
                    if index != expected {
                        return Err(invalid(format!(
                            "The list `{path}` has no element `{path}.{expected}` (its indices must run from 0 \
                             without gaps)."
                        )));
                    }
                    out.push(self.typed_value(elem, node, &format!("{path}.{index}"))?);
                }
                Ok(Value::Array(out))
            }
            (scalar, Node::Leaf(text)) => scalar_value(scalar, text, path),
            (_, Node::Branch(b)) => Err(ApiError::new(
                codes::UNKNOWN_PARAMETER,
                format!(
                    "The parameter `{}` is not recognized (`{path}` is a single {}).",
                    b.first,
                    super::type_name(ty)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Specs;
    use super::*;
    use serde_json::json;

    fn vpc(action: &str, query: &str) -> ApiResult<Value> {
        let specs = Specs::load().unwrap();
        specs
            .vpc
            .params_from_query(action, query)
            .map(Value::Object)
    }

    #[test]
    fn decoding() {
        assert_eq!(form_decode("a+b%20c%2F%E5%90%8D").unwrap(), "a b c/名");
        assert!(form_decode("%zz").is_err());
        assert!(form_decode("%4").is_err());
        assert!(form_decode("%FF").is_err());
        assert_eq!(
            parse_pairs("A=1&&B&C=x%3Dy").unwrap(),
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), String::new()),
                ("C".to_string(), "x=y".to_string())
            ]
        );
    }

    #[test]
    fn the_sdk_vector_query() {
        let v = vpc(
            "DescribeVpnConnections",
            "Filters.0.Name=vpn-gateway-id&Filters.0.Values.0=vpngw-1w9tue3d&Offset=0&Limit=1",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"Filters": [{"Name": "vpn-gateway-id", "Values": ["vpngw-1w9tue3d"]}],
                   "Offset": 0, "Limit": 1})
        );
        // DescribeVpcs declares Offset/Limit as strings: they stay strings.
        let v = vpc("DescribeVpcs", "Offset=0&Limit=20").unwrap();
        assert_eq!(v, json!({"Offset": "0", "Limit": "20"}));
    }

    #[test]
    fn nested_objects_lists_and_types() {
        let q = "VpnGatewayId=vpngw-1&CustomerGatewayId=cgw-1&VpnConnectionName=a+b&PreShareKey=k\
                 &SecurityPolicyDatabases.0.LocalCidrBlock=10.0.1.0%2F24\
                 &SecurityPolicyDatabases.0.RemoteCidrBlock.1=192.168.2.0%2F24\
                 &SecurityPolicyDatabases.0.RemoteCidrBlock.0=192.168.1.0%2F24\
                 &IKEOptionsSpecification.PropoEncryAlgorithm=AES-CBC-256\
                 &IKEOptionsSpecification.IKESaLifetimeSeconds=86400\
                 &EnableHealthCheck=True&DpdEnable=1&DpdTimeout=30";
        let v = vpc("CreateVpnConnection", q).unwrap();
        assert_eq!(v["VpnConnectionName"], "a b");
        assert_eq!(
            v["SecurityPolicyDatabases"],
            json!([{"LocalCidrBlock": "10.0.1.0/24",
                    "RemoteCidrBlock": ["192.168.1.0/24", "192.168.2.0/24"]}])
        );
        assert_eq!(
            v["IKEOptionsSpecification"],
            json!({"PropoEncryAlgorithm": "AES-CBC-256", "IKESaLifetimeSeconds": 86400})
        );
        assert_eq!(v["EnableHealthCheck"], true);
        assert_eq!(v["DpdEnable"], 1);
        assert_eq!(v["DpdTimeout"], "30");
        let specs = Specs::load().unwrap();
        specs
            .vpc
            .validate("CreateVpnConnection", v.as_object().unwrap())
            .unwrap();
        let v = vpc(
            "CreateVpnConnection",
            "EnableHealthCheck=false&VpnGatewayId=x",
        )
        .unwrap();
        assert_eq!(v["EnableHealthCheck"], false);
    }

    #[test]
    fn errors() {
        let code = |action: &str, q: &str| vpc(action, q).unwrap_err().code;
        let dvc = "DescribeVpnConnections";
        assert_eq!(code(dvc, "Bogus=1"), codes::UNKNOWN_PARAMETER);
        assert_eq!(code(dvc, "Filters.0.Bogus=1"), codes::UNKNOWN_PARAMETER);
        assert_eq!(code(dvc, "VpcId.X=1"), codes::UNKNOWN_PARAMETER);
        assert_eq!(code(dvc, "Limit=abc"), codes::INVALID_PARAMETER);
        assert_eq!(code(dvc, "Limit=-1"), codes::INVALID_PARAMETER);
        assert_eq!(code(dvc, "Limit="), codes::INVALID_PARAMETER);
        assert_eq!(code(dvc, "Filters=vpc-id"), codes::INVALID_PARAMETER);
        assert_eq!(code(dvc, "Filters.Name=vpc-id"), codes::INVALID_PARAMETER);
        assert_eq!(
            code(dvc, "VpnConnectionIds.1=vpnx-1"),
            codes::INVALID_PARAMETER
        );
        assert_eq!(
            code(dvc, "VpnConnectionIds.01=vpnx-1"),
            codes::INVALID_PARAMETER
        );
        assert_eq!(code(dvc, "Limit=1&Limit=2"), codes::INVALID_PARAMETER);
        assert_eq!(code(dvc, "Filters..Name=x"), codes::INVALID_PARAMETER);
        assert_eq!(code(dvc, &"A.".repeat(40)), codes::INVALID_PARAMETER);
        assert_eq!(
            code("CreateVpnConnection", "EnableHealthCheck=yes"),
            codes::INVALID_PARAMETER
        );
        let e = vpc(dvc, "Filters.0.Name=a&Filters.B=c").unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMETER);
        assert!(
            e.message.contains("`Filters.0.Name`") && e.message.contains("`Filters.B`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("contradict"), "{}", e.message);
        let e = vpc(dvc, "Filters.0=a&Filters.0.Name=b").unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMETER);
        assert!(e.message.contains("contradict"), "{}", e.message);
        let e = vpc(dvc, "Filters.0.Name=b&Filters.0=a").unwrap_err();
        assert!(e.message.contains("contradict"), "{}", e.message);
        let e = vpc(dvc, "Limit=x").unwrap_err();
        assert!(e.message.contains("`Limit`"), "{}", e.message);
        let e = vpc(dvc, "Filters.0.Values.0.X=1").unwrap_err();
        assert_eq!(e.code, codes::UNKNOWN_PARAMETER);
        assert!(e.message.contains("Filters.0.Values.0.X"), "{}", e.message);
    }
}
