//! The embedded API specs and the validation of request bodies against them.
//!
//! Every request body is checked against the members of its action's input object before dispatch: unknown
//! names (`UnknownParameter`), missing required members (`MissingParameter`) and JSON types that do not match
//! the declared type (`InvalidParameter`), recursively through nested objects and lists. A `null` value counts
//! as absent (the official SDKs drop unset members).
//!
//! `GET` requests carry the same parameters flattened into the query string (`Filters.0.Name=vpc-id`); the
//! `flat` module turns them back into that JSON object, typing each value by the spec.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{codes, ApiError, ApiResult};

mod flat;

const VPC_SPEC: &str = include_str!("../spec/vpc-vpn-api.json");
const VPC_ROUTE_SPEC: &str = include_str!("../spec/vpc-route-api.json");
/// Members the spec marks required that the API does not require everywhere the object is used:
/// `DeleteRoutes` names its routes by `RouteId` alone (and CreateRoutes/ReplaceRoutes check the
/// others in their handlers, with the same `MissingParameter`).
const NOT_REQUIRED: &[(&str, &str)] = &[
    ("Route", "DestinationCidrBlock"),
    ("Route", "GatewayType"),
    ("Route", "GatewayId"),
];
const TAG_SPEC: &str = include_str!("../spec/tag-api.json");
const STS_SPEC: &str = include_str!("../spec/sts-api.json");

/// A declared type.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str,
    Int { signed: bool },
    Float,
    Bool,
    Object(usize),
    List(Box<Ty>),
}

#[derive(Debug)]
struct Member {
    name: String,
    ty: Ty,
    required: bool,
}

#[derive(Debug)]
struct Object {
    members: Vec<Member>,
}

/// The schema of one service.
#[derive(Debug)]
pub(crate) struct ServiceSpec {
    objects: Vec<Object>,
    /// Action name -> index of its input object.
    actions: HashMap<String, usize>,
}

/// Every service's schema.
#[derive(Debug)]
pub(crate) struct Specs {
    pub vpc: ServiceSpec,
    pub tag: ServiceSpec,
    pub sts: ServiceSpec,
}

impl Specs {
    pub fn load() -> Result<Specs, String> {
        Ok(Specs {
            vpc: ServiceSpec::parse_merged(&[VPC_SPEC, VPC_ROUTE_SPEC], NOT_REQUIRED)
                .map_err(|e| format!("vpc-vpn-api.json + vpc-route-api.json: {e}"))?,
            tag: ServiceSpec::parse(TAG_SPEC).map_err(|e| format!("tag-api.json: {e}"))?,
            sts: ServiceSpec::parse(STS_SPEC).map_err(|e| format!("sts-api.json: {e}"))?,
        })
    }

    /// The schema of `service`.
    pub fn of(&self, service: crate::actions::Service) -> &ServiceSpec {
        match service {
            crate::actions::Service::Vpc => &self.vpc,
            crate::actions::Service::Tag => &self.tag,
            crate::actions::Service::Sts => &self.sts,
        }
    }
}

#[derive(Deserialize)]
struct RawSpec {
    actions: HashMap<String, RawAction>,
    objects: HashMap<String, RawObject>,
}

#[derive(Deserialize)]
struct RawAction {
    input: String,
}

#[derive(Deserialize, PartialEq)]
struct RawObject {
    members: Vec<RawMember>,
}

#[derive(Deserialize, PartialEq)]
struct RawMember {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    member: String,
    #[serde(default)]
    required: Option<bool>,
}

fn scalar(member: &str) -> Option<Ty> {
    Some(match member {
        "string" | "datetime" | "datetime_iso" | "binary" => Ty::Str,
        "int64" | "int32" | "int" => Ty::Int { signed: true },
        "uint64" | "uint32" | "uint" => Ty::Int { signed: false },
        "bool" => Ty::Bool,
        "float" | "double" => Ty::Float,
        _ => return None,
    })
}

impl ServiceSpec {
    fn parse(text: &str) -> Result<ServiceSpec, String> {
        Self::parse_merged(&[text], &[])
    }

    /// One service's schema from several spec files (their actions and objects together; an
    /// object declared twice must be declared alike), with `not_required` members made optional.
    fn parse_merged(texts: &[&str], not_required: &[(&str, &str)]) -> Result<ServiceSpec, String> {
        let mut raw = RawSpec {
            actions: HashMap::new(),
            objects: HashMap::new(),
        };
        for text in texts {
            let part: RawSpec = serde_json::from_str(text).map_err(|e| e.to_string())?;
            raw.actions.extend(part.actions);
            for (name, obj) in part.objects {
                if let Some(seen) = raw.objects.get(&name) {
                    if seen != &obj {
                        return Err(format!("object `{name}` is declared differently twice"));
                    }
                }
                raw.objects.insert(name, obj);
            }
        }
        for (object, member) in not_required {
            let m = raw
                .objects
                .get_mut(*object)
                .and_then(|o| o.members.iter_mut().find(|m| m.name == *member))
                .ok_or_else(|| format!("no member `{object}.{member}` to make optional"))?;
            m.required = Some(false);
        }
        let mut names: Vec<&String> = raw.objects.keys().collect();
        names.sort();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let object_ref = |name: &str| -> Result<usize, String> {
            index
                .get(name)
                .copied()
                .ok_or_else(|| format!("unknown object `{name}`"))
        };
        let mut objects = Vec::with_capacity(names.len());
        for name in &names {
            let raw_obj = &raw.objects[*name];
            let mut members = Vec::with_capacity(raw_obj.members.len());
            for m in &raw_obj.members {
                let ty = match m.ty.as_str() {
                    "object" => Ty::Object(object_ref(&m.member)?),
                    "list" => Ty::List(Box::new(match scalar(&m.member) {
                        Some(t) => t,
                        None => Ty::Object(object_ref(&m.member)?),
                    })),
                    "int" => scalar(&m.member).unwrap_or(Ty::Int { signed: true }),
                    "string" => Ty::Str,
                    "bool" => Ty::Bool,
                    "float" | "double" => Ty::Float,
                    other => return Err(format!("{name}.{}: unknown type `{other}`", m.name)),
                };
                members.push(Member {
                    name: m.name.clone(),
                    ty,
                    required: m.required.unwrap_or(false),
                });
            }
            objects.push(Object { members });
        }
        let mut actions = HashMap::new();
        for (action, a) in &raw.actions {
            actions.insert(action.clone(), object_ref(&a.input)?);
        }
        Ok(ServiceSpec { objects, actions })
    }

    /// Whether the spec declares `action`.
    #[cfg(test)]
    pub fn has_action(&self, action: &str) -> bool {
        self.actions.contains_key(action)
    }

    /// Validates a request body of `action` against its input object.
    pub fn validate(&self, action: &str, body: &Map<String, Value>) -> ApiResult<()> {
        let Some(&input) = self.actions.get(action) else {
            return Err(ApiError::new(
                codes::INVALID_ACTION,
                format!("The action `{action}` is not supported."),
            ));
        };
        let mut path = String::new();
        self.check_object(input, body, &mut path)
    }

    fn check_object(
        &self,
        object: usize,
        body: &Map<String, Value>,
        path: &mut String,
    ) -> ApiResult<()> {
        let members = &self.objects[object].members;
        for (key, value) in body {
            let Some(member) = members.iter().find(|m| m.name == *key) else {
                return Err(ApiError::new(
                    codes::UNKNOWN_PARAMETER,
                    format!("The parameter `{}` is not recognized.", join(path, key)),
                ));
            };
            if value.is_null() {
                continue;
            }
            let len = path.len();
            push_segment(path, key);
            self.check_value(&member.ty, value, path)?;
            path.truncate(len);
        }
        for member in members.iter().filter(|m| m.required) {
            if body.get(&member.name).is_none_or(Value::is_null) {
                return Err(ApiError::missing(&join(path, &member.name)));
            }
        }
        Ok(())
    }

    fn check_value(&self, ty: &Ty, value: &Value, path: &mut String) -> ApiResult<()> {
        let ok = match (ty, value) {
            (Ty::Str, Value::String(_)) => true,
            (Ty::Bool, Value::Bool(_)) => true,
            (Ty::Int { signed: true }, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Ty::Int { signed: false }, Value::Number(n)) => n.is_u64(),
            (Ty::Float, Value::Number(_)) => true,
            (Ty::Object(o), Value::Object(map)) => return self.check_object(*o, map, path),
            (Ty::List(elem), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    push_segment(path, &i.to_string());
                    if item.is_null() {
                        return Err(type_error(path, elem));
                    }
                    self.check_value(elem, item, path)?;
                    path.truncate(len);
                }
                true
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(type_error(path, ty))
        }
    }
}

fn type_name(ty: &Ty) -> &'static str {
    match ty {
        Ty::Str => "String",
        Ty::Int { signed: true } => "Integer",
        Ty::Int { signed: false } => "non-negative Integer",
        Ty::Float => "Float",
        Ty::Bool => "Boolean",
        Ty::Object(_) => "Object",
        Ty::List(_) => "Array",
    }
}

fn type_error(path: &str, ty: &Ty) -> ApiError {
    ApiError::new(
        codes::INVALID_PARAMETER,
        format!(
            "The value of parameter `{path}` is not of the expected type {}.",
            type_name(ty)
        ),
    )
}

fn push_segment(path: &mut String, segment: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn specs_load_and_cover_served_actions() {
        let specs = Specs::load().unwrap();
        for a in crate::actions::Action::ALL {
            let spec = specs.of(a.service());
            assert!(spec.has_action(a.name()), "{} missing from spec", a.name());
        }
    }

    #[test]
    fn validation_errors() {
        let specs = Specs::load().unwrap();
        let v = &specs.vpc;
        assert!(v
            .validate("DescribeVpnConnections", &body(json!({"Limit": 5})))
            .is_ok());
        let e = v
            .validate("DescribeVpnConnections", &body(json!({"Limit": "5"})))
            .unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMETER);
        let e = v
            .validate("DescribeVpnConnections", &body(json!({"Limit": -1})))
            .unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMETER);
        let e = v
            .validate("DescribeVpnConnections", &body(json!({"Bogus": 1})))
            .unwrap_err();
        assert_eq!(e.code, codes::UNKNOWN_PARAMETER);
        let e = v
            .validate(
                "DescribeVpnConnections",
                &body(json!({"Filters": [{"Name": "vpc-id"}]})),
            )
            .unwrap_err();
        assert_eq!(e.code, codes::MISSING_PARAMETER);
        assert!(e.message.contains("Filters.0.Values"), "{}", e.message);
        let e = v
            .validate(
                "CreateVpnConnection",
                &body(
                    json!({"VpnGatewayId": "vpngw-1", "CustomerGatewayId": "cgw-1",
                    "VpnConnectionName": "x", "PreShareKey": "k",
                    "IKEOptionsSpecification": {"Bogus": 1}}),
                ),
            )
            .unwrap_err();
        assert_eq!(e.code, codes::UNKNOWN_PARAMETER);
        assert!(e.message.contains("IKEOptionsSpecification.Bogus"));
        let e = v
            .validate(
                "CreateVpnConnection",
                &body(
                    json!({"VpnGatewayId": "vpngw-1", "CustomerGatewayId": "cgw-1",
                    "VpnConnectionName": "x"}),
                ),
            )
            .unwrap_err();
        assert_eq!(e.code, codes::MISSING_PARAMETER);
        assert!(e.message.contains("PreShareKey"));
        let e = v
            .validate(
                "CreateVpnConnection",
                &body(json!({"VpnGatewayId": "vpngw-1", "CustomerGatewayId": "cgw-1",
                    "VpnConnectionName": "x", "PreShareKey": "k",
                    "SecurityPolicyDatabases": [{"LocalCidrBlock": "10.0.0.0/24", "RemoteCidrBlock": [1]}]})),
            )
            .unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMETER);
        assert!(e
            .message
            .contains("SecurityPolicyDatabases.0.RemoteCidrBlock.0"));
        assert_eq!(type_name(&Ty::Bool), "Boolean");
    }
}
