//! `tunnelform state migrate-terraform`: converting a Terraform state (format version 4) written by
//! the Tencent Cloud provider into a tunnelform state.
//!
//! Taken: managed `tencentcloud_vpn_gateway`, `tencentcloud_vpn_customer_gateway` and
//! `tencentcloud_vpn_connection` instances, at the root module or inside modules (the address keeps
//! Terraform's module path, `module.site["sh"].tencentcloud_vpn_connection.primary`), with their
//! `count` (number) and `for_each` (string) keys. Attributes are converted to tunnelform's representation, guided by the
//! provider schema in [`tunnelform_model::schema`]:
//! - scalars are coerced to the schema's type (the provider stores some numbers as strings);
//! - single nested blocks (`bgp_config`, `health_check_config`), which Terraform keeps as one-element
//!   lists, become one object (an empty list: absent);
//! - `security_group_policy` stays a list of objects; `tags` a map;
//! - null attributes, and empty optional lists and maps, are dropped (absent);
//! - `pre_share_key` (kept in clear by Terraform) becomes a salted digest in `secret_digests`, and so
//!   does any attribute Terraform lists in `sensitive_attributes`; the clear text is not kept.
//!
//! Skipped with a warning: other resource types, data sources, deposed objects.
//!
//! The region is not in a Terraform state. It is taken from [`MigrateOptions`] (by provider alias, then
//! a default), else inferred (a gateway's `zone` such as `ap-guangzhou-3`; a tunnel from its gateway;
//! a customer gateway from its tunnels), else left empty with a warning for the caller to fill in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use tunnelform_model::Map;

use serde_json::Value as Json;
use tunnelform_kinds::{RegionHint, ResourceKind};
use tunnelform_model::schema::{AttrSchema, AttrType, BlockSchema, Nesting};
use tunnelform_model::{Address, InstanceKey, Mode, Value};

use crate::secret::SecretDigest;
use crate::state::{excerpt, Origin, ResourceState, State};

/// Where to find regions the Terraform state does not record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrateOptions {
    /// Region of each provider alias (`""` for the default provider), from the provider blocks.
    pub region_by_alias: BTreeMap<String, String>,
    /// Region when nothing else says.
    pub default_region: Option<String>,
}

/// Something the migration did not carry over, or guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateWarning {
    /// The Terraform address concerned, if any.
    pub address: Option<String>,
    pub message: String,
}

impl fmt::Display for MigrateWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.address {
            Some(a) => write!(f, "{a}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error("the file is not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("this is not a Terraform state file: {reason}")]
    NotTerraform { reason: String },
    #[error("this is already a tunnelform state file; there is nothing to migrate")]
    AlreadyTunnelform,
    #[error("Terraform state format version {found} is not supported; only version 4 (Terraform 0.12 and later) is. Run `terraform init` and any `terraform` command that writes state (for example `terraform apply -refresh-only`) with a recent Terraform to upgrade it")]
    UnsupportedVersion { found: String },
    #[error("the Terraform state is malformed: {0}")]
    Malformed(String),
    #[error("{address}: {detail}")]
    BadInstance { address: String, detail: String },
    #[error("{address} appears twice in the Terraform state")]
    DuplicateAddress { address: String },
}

/// Converts a Terraform v4 state with default [`MigrateOptions`].
pub fn migrate_terraform(json: &str) -> Result<(State, Vec<MigrateWarning>), MigrateError> {
    migrate_terraform_with(json, &MigrateOptions::default())
}

/// Converts a Terraform v4 state (see the module documentation).
pub fn migrate_terraform_with(
    json: &str,
    options: &MigrateOptions,
) -> Result<(State, Vec<MigrateWarning>), MigrateError> {
    let doc: Json = serde_json::from_str(json).map_err(|e| MigrateError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .rsplit_once(" at line ")
            .map(|(m, _)| m.to_string())
            .unwrap_or_else(|| e.to_string()),
    })?;
    let obj = doc.as_object().ok_or_else(|| MigrateError::NotTerraform {
        reason: "the top level is not an object".into(),
    })?;
    if obj.get("format").and_then(Json::as_str) == Some(crate::state::STATE_FORMAT) {
        return Err(MigrateError::AlreadyTunnelform);
    }
    if !obj.contains_key("terraform_version") {
        return Err(MigrateError::NotTerraform {
            reason: "it has no \"terraform_version\"".into(),
        });
    }
    match obj.get("version") {
        Some(v) if v.as_u64() == Some(4) => {}
        Some(v) => {
            return Err(MigrateError::UnsupportedVersion {
                found: excerpt(&v.to_string()),
            })
        }
        None => {
            return Err(MigrateError::NotTerraform {
                reason: "it has no \"version\"".into(),
            })
        }
    }

    let mut warnings = Vec::new();
    let mut state = State::new();
    let resources = match obj.get("resources") {
        Some(Json::Array(a)) => a.as_slice(),
        Some(Json::Null) | None => &[],
        Some(_) => {
            return Err(MigrateError::Malformed(
                "\"resources\" is not a list".into(),
            ))
        }
    };
    // Terraform's resource-level dependencies, resolved to instances once all are read.
    let mut raw_deps: BTreeMap<Address, Vec<String>> = BTreeMap::new();
    for res in resources {
        migrate_resource(res, options, &mut state, &mut raw_deps, &mut warnings)?;
    }
    resolve_dependencies(&mut state, raw_deps, &mut warnings);
    infer_regions(&mut state, &mut warnings);
    if let Some(Json::Object(outputs)) = obj.get("outputs") {
        if !outputs.is_empty() {
            warnings.push(MigrateWarning {
                address: None,
                message: format!(
                    "{} output(s) not migrated; tunnelform records outputs at the next apply",
                    outputs.len()
                ),
            });
        }
    }
    Ok((state, warnings))
}

fn warn(
    warnings: &mut Vec<MigrateWarning>,
    address: impl Into<String>,
    message: impl Into<String>,
) {
    let w = MigrateWarning {
        address: Some(address.into()),
        message: message.into(),
    };
    tracing::warn!("{w}");
    warnings.push(w);
}

fn migrate_resource(
    res: &Json,
    options: &MigrateOptions,
    state: &mut State,
    raw_deps: &mut BTreeMap<Address, Vec<String>>,
    warnings: &mut Vec<MigrateWarning>,
) -> Result<(), MigrateError> {
    let res = res
        .as_object()
        .ok_or_else(|| MigrateError::Malformed("a resource is not an object".into()))?;
    let field = |name: &str| res.get(name).and_then(Json::as_str).unwrap_or_default();
    let (mode, type_name, name) = (field("mode"), field("type"), field("name"));
    if type_name.is_empty() || name.is_empty() {
        return Err(MigrateError::Malformed(
            "a resource has no type or name".into(),
        ));
    }
    let display = match mode {
        "data" => format!("data.{type_name}.{name}"),
        _ => format!("{type_name}.{name}"),
    };
    let display = match res.get("module").and_then(Json::as_str) {
        Some(m) => format!("{m}.{display}"),
        None => display,
    };
    // `module.site["sh"].module.inner`: the module path in Terraform's own notation.
    let module = match res.get("module") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::String(m)) => match format!("{m}.{type_name}.{name}").parse::<Address>() {
            Ok(a) if !a.module.is_empty() => a.module,
            _ => {
                return Err(MigrateError::BadInstance {
                    address: excerpt(&display),
                    detail: "the module path is not a module address (module.NAME or module.NAME[KEY], one step per nested module)".into(),
                })
            }
        },
        Some(_) => {
            return Err(MigrateError::Malformed(format!(
                "{}: \"module\" is not a string",
                excerpt(&display)
            )))
        }
    };
    if mode != "managed" {
        warn(
            warnings,
            display,
            "data sources are not migrated; tunnelform reads them again at every plan",
        );
        return Ok(());
    }
    let Some(kind) = ResourceKind::from_type_name(type_name) else {
        warn(
            warnings,
            display,
            "not a resource type tunnelform manages; skipped (it stays in the Terraform state)",
        );
        return Ok(());
    };
    let provider_alias = provider_alias(field("provider"));
    let region = options
        .region_by_alias
        .get(provider_alias.as_deref().unwrap_or(""))
        .cloned()
        .or_else(|| options.default_region.clone())
        .unwrap_or_default();
    let mut base = Address::managed(type_name, name);
    base.module = module;
    if base.to_string().parse::<Address>().ok().as_ref() != Some(&base) {
        return Err(MigrateError::BadInstance {
            address: excerpt(&display),
            detail: "the name is not a valid identifier".into(),
        });
    }
    let instances = match res.get("instances") {
        Some(Json::Array(a)) => a.as_slice(),
        _ => &[],
    };
    for inst in instances {
        let inst = inst.as_object().ok_or_else(|| {
            MigrateError::Malformed(format!("{display}: an instance is not an object"))
        })?;
        let key = match inst.get("index_key") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(InstanceKey::Key(s.clone())),
            Some(Json::Number(n)) => match n.as_u64() {
                Some(i) => Some(InstanceKey::Index(i)),
                None => {
                    return Err(MigrateError::BadInstance {
                        address: display.clone(),
                        detail: format!("index_key {n} is not a whole number"),
                    })
                }
            },
            Some(other) => {
                return Err(MigrateError::BadInstance {
                    address: display.clone(),
                    detail: format!(
                        "index_key {} is neither a string nor a number",
                        excerpt(&other.to_string())
                    ),
                })
            }
        };
        let address = base.clone().with_key(key);
        if inst
            .get("deposed")
            .and_then(Json::as_str)
            .is_some_and(|d| !d.is_empty())
        {
            warn(warnings, address.to_string(), "a deposed object (left over from a create-before-destroy replacement) is not migrated; delete it with Terraform or in the console");
            continue;
        }
        if state.resources.contains_key(&address) {
            return Err(MigrateError::DuplicateAddress {
                address: address.to_string(),
            });
        }
        let r = migrate_instance(
            kind,
            &address,
            inst,
            region.clone(),
            provider_alias.clone(),
            warnings,
        )?;
        let deps: Vec<String> = match inst.get("dependencies") {
            Some(Json::Array(d)) => d
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        raw_deps.insert(address.clone(), deps);
        state.resources.insert(address, r);
    }
    Ok(())
}

/// The alias in `provider["registry.terraform.io/tencentcloudstack/tencentcloud"].hk` (or the legacy
/// `provider.tencentcloud.hk`).
fn provider_alias(provider: &str) -> Option<String> {
    let rest = if let Some(i) = provider.rfind("\"]") {
        &provider[i + 2..]
    } else {
        let rest = provider.strip_prefix("provider.")?;
        match rest.split_once('.') {
            Some((_, alias)) => return Some(alias.to_string()).filter(|a| !a.is_empty()),
            None => return None,
        }
    };
    rest.strip_prefix('.')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

fn migrate_instance(
    kind: ResourceKind,
    address: &Address,
    inst: &serde_json::Map<String, Json>,
    region: String,
    provider_alias: Option<String>,
    warnings: &mut Vec<MigrateWarning>,
) -> Result<ResourceState, MigrateError> {
    let bad = |detail: String| MigrateError::BadInstance {
        address: address.to_string(),
        detail,
    };
    let attrs =
        match inst.get("attributes") {
            Some(Json::Object(a)) => a,
            _ => return Err(bad(
                "it has no \"attributes\" (attributes_flat from Terraform 0.11 is not supported)"
                    .into(),
            )),
        };
    let id = attrs
        .get("id")
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("it has no id".into()))?;
    let mut r = ResourceState::new(kind, region, id);
    r.origin = Origin::Migrated;
    r.provider_alias = provider_alias;
    r.create_before_destroy = inst
        .get("create_before_destroy")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    if inst.get("status").and_then(Json::as_str) == Some("tainted") {
        r.tainted = true;
        warn(
            warnings,
            address.to_string(),
            "Terraform marked it tainted; the next plan replaces it",
        );
    }
    let tf_sensitive = sensitive_attribute_names(inst.get("sensitive_attributes"));
    let schema = kind.schema();
    for (name, raw) in attrs {
        if name == "id" || raw.is_null() {
            continue;
        }
        let Some(attr) = schema.attr(name) else {
            warn(
                warnings,
                address.to_string(),
                format!("attribute {name:?} is not in tunnelform's schema; dropped"),
            );
            continue;
        };
        if attr.sensitive || tf_sensitive.contains(name.as_str()) {
            let secret = match raw {
                Json::String(s) => s.clone().into_bytes(),
                other => Value::from_json(other).canonical_key().into_bytes(),
            };
            r.secret_digests
                .insert(name.clone(), SecretDigest::new_bytes(&secret));
            continue;
        }
        let v = convert(&attr.ty, raw).map_err(|e| bad(format!("attribute {name}: {e}")))?;
        let v = match v {
            Some(v) if !attr.required && is_empty_collection(&v) => None,
            v => v,
        };
        if let Some(v) = v {
            r.attributes.insert(name.clone().into(), v);
        }
    }
    if r.ownership_tags_present() {
        r.ownership_tags = true;
    }
    Ok(r)
}

impl ResourceState {
    /// Whether the `tags` attribute carries a `tunnelform:` ownership tag.
    fn ownership_tags_present(&self) -> bool {
        self.attributes
            .get("tags")
            .and_then(Value::as_map)
            .is_some_and(|m| m.keys().any(|k| k.starts_with("tunnelform:")))
    }
}

/// Top-level attribute names in Terraform's `sensitive_attributes` paths
/// (`[[{"type":"get_attr","value":"pre_share_key"}]]`).
fn sensitive_attribute_names(v: Option<&Json>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(Json::Array(paths)) = v {
        for path in paths {
            if let Some(first) = path.as_array().and_then(|p| p.first()) {
                if first.get("type").and_then(Json::as_str) == Some("get_attr") {
                    if let Some(name) = first.get("value").and_then(Json::as_str) {
                        out.insert(name.to_string());
                    }
                }
            }
        }
    }
    out
}

fn is_empty_collection(v: &Value) -> bool {
    match v {
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// Converts a Terraform JSON value to tunnelform's representation of `ty`; `None` for absent.
fn convert(ty: &AttrType, raw: &Json) -> Result<Option<Value>, String> {
    if raw.is_null() {
        return Ok(None);
    }
    let v = match ty {
        AttrType::String => Value::string(match raw {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            other => return Err(format!("expected a string, found {}", kind_of(other))),
        }),
        AttrType::Int => match raw {
            Json::Number(n) if n.is_i64() || n.is_u64() => Value::Number(n.clone()),
            Json::Number(n) => match n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                Some(f) => Value::int(f as i64),
                None => return Err(format!("expected a whole number, found {n}")),
            },
            Json::String(s) if s.is_empty() => return Ok(None),
            Json::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => Value::int(i),
                Err(_) => return Err(format!("expected a whole number, found {:?}", excerpt(s))),
            },
            other => return Err(format!("expected a number, found {}", kind_of(other))),
        },
        AttrType::Bool => match raw {
            Json::Bool(b) => Value::Bool(*b),
            Json::String(s) if s == "true" || s == "false" => Value::Bool(s == "true"),
            other => return Err(format!("expected a bool, found {}", kind_of(other))),
        },
        AttrType::List(elem) | AttrType::Set(elem) => {
            let items = raw
                .as_array()
                .ok_or_else(|| format!("expected a list, found {}", kind_of(raw)))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(v) = convert(elem, item)? {
                    out.push(v);
                }
            }
            Value::List(out)
        }
        AttrType::Map(elem) => {
            let m = raw
                .as_object()
                .ok_or_else(|| format!("expected a map, found {}", kind_of(raw)))?;
            let mut out = Map::new();
            for (k, item) in m {
                if let Some(v) = convert(elem, item)? {
                    out.insert(k.clone().into(), v);
                }
            }
            Value::Map(out)
        }
        AttrType::Block(Nesting::Single, block) => {
            let obj = match raw {
                Json::Array(items) if items.is_empty() => return Ok(None),
                Json::Array(items) if items.len() == 1 => &items[0],
                Json::Array(items) => {
                    return Err(format!("expected at most one block, found {}", items.len()))
                }
                obj @ Json::Object(_) => obj,
                other => return Err(format!("expected a block, found {}", kind_of(other))),
            };
            convert_block(block, obj)?
        }
        AttrType::Block(_, block) => {
            let items = raw
                .as_array()
                .ok_or_else(|| format!("expected a list of blocks, found {}", kind_of(raw)))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(convert_block(block, item)?);
            }
            Value::List(out)
        }
        AttrType::Any => Value::from_json(raw),
    };
    Ok(Some(v))
}

fn convert_block(block: &BlockSchema, raw: &Json) -> Result<Value, String> {
    let obj = raw
        .as_object()
        .ok_or_else(|| format!("expected a block object, found {}", kind_of(raw)))?;
    let mut out = Map::new();
    for (k, item) in obj {
        let attr: &AttrSchema = block
            .attr(k)
            .ok_or_else(|| format!("unexpected nested attribute {:?}", excerpt(k)))?;
        if let Some(v) = convert(&attr.ty, item)? {
            out.insert(k.clone().into(), v);
        }
    }
    Ok(Value::Map(out))
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// Terraform records dependencies per resource (`tencentcloud_vpn_gateway.main`); tunnelform per
/// instance. Each is expanded to the migrated instances it names; dependencies on resources that were
/// not migrated are dropped.
fn resolve_dependencies(
    state: &mut State,
    raw: BTreeMap<Address, Vec<String>>,
    warnings: &mut Vec<MigrateWarning>,
) {
    let addresses: Vec<Address> = state.resources.keys().cloned().collect();
    for (address, deps) in raw {
        let mut resolved = BTreeSet::new();
        for dep in deps {
            let Ok(target) = dep.parse::<Address>() else {
                warn(
                    warnings,
                    address.to_string(),
                    format!(
                        "dependency {:?} is not an address tunnelform understands; dropped",
                        excerpt(&dep)
                    ),
                );
                continue;
            };
            if target.mode != Mode::Managed
                || ResourceKind::from_type_name(&target.type_name).is_none()
            {
                tracing::debug!(%address, dependency = %dep, "dependency on a resource that is not migrated dropped");
                continue;
            }
            resolved.extend(
                addresses
                    .iter()
                    .filter(|a| target.contains(a) && **a != address)
                    .cloned(),
            );
        }
        if let Some(r) = state.resources.get_mut(&address) {
            r.dependencies = resolved.into();
        }
    }
}

/// Fills empty regions from what each kind says they follow ([`RegionHint`]): a zone, the object
/// an attribute names (a tunnel's gateway), or the objects naming this one (a customer gateway's
/// tunnels, when they agree).
fn infer_regions(state: &mut State, warnings: &mut Vec<MigrateWarning>) {
    let hint = |r: &ResourceState| r.kind().map_or(RegionHint::None, |k| k.def().region_hint());
    let str_attr = |r: &ResourceState, name: &str| {
        r.attributes
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    for r in state.resources.values_mut() {
        if let (true, RegionHint::Zone(attr)) = (r.region.is_empty(), hint(r)) {
            if let Some(region) = str_attr(r, attr).as_deref().and_then(region_of_zone) {
                r.region = region;
            }
        }
    }
    let region_of_id: BTreeMap<String, String> = state
        .resources
        .values()
        .filter(|r| !r.region.is_empty())
        .map(|r| (r.id.clone(), r.region.clone()))
        .collect();
    for r in state.resources.values_mut() {
        if let (true, RegionHint::Follows(attr)) = (r.region.is_empty(), hint(r)) {
            if let Some(region) = str_attr(r, attr).and_then(|id| region_of_id.get(&id).cloned()) {
                r.region = region;
            }
        }
    }
    // (attribute, id named) -> regions of the objects naming it.
    let mut named_from: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in state.resources.values().filter(|r| !r.region.is_empty()) {
        for (name, v) in &r.attributes {
            if let Some(id) = v.as_str() {
                named_from
                    .entry((name.to_string(), id.to_string()))
                    .or_default()
                    .insert(r.region.clone());
            }
        }
    }
    for (address, r) in state.resources.iter_mut() {
        if let (true, RegionHint::FollowedBy(attr)) = (r.region.is_empty(), hint(r)) {
            if let Some(regions) = named_from
                .get(&(attr.to_string(), r.id.clone()))
                .filter(|s| s.len() == 1)
            {
                r.region = regions.iter().next().cloned().unwrap_or_default();
            }
        }
        if r.region.is_empty() {
            warn(
                warnings,
                address.to_string(),
                "its region is not recorded in the Terraform state and could not be inferred; it is taken from the provider configuration at the next plan",
            );
        }
    }
}

/// `ap-guangzhou-3` -> `ap-guangzhou`.
fn region_of_zone(zone: &str) -> Option<String> {
    let (region, n) = zone.rsplit_once('-')?;
    (!region.is_empty()
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && region.contains('-'))
    .then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_aliases() {
        assert_eq!(
            provider_alias("provider[\"registry.terraform.io/tencentcloudstack/tencentcloud\"]"),
            None
        );
        assert_eq!(
            provider_alias("provider[\"registry.terraform.io/tencentcloudstack/tencentcloud\"].hk"),
            Some("hk".to_string())
        );
        assert_eq!(provider_alias("provider.tencentcloud"), None);
        assert_eq!(
            provider_alias("provider.tencentcloud.sh"),
            Some("sh".to_string())
        );
        assert_eq!(provider_alias(""), None);
    }

    #[test]
    fn zones_to_regions() {
        assert_eq!(
            region_of_zone("ap-guangzhou-3").as_deref(),
            Some("ap-guangzhou")
        );
        assert_eq!(
            region_of_zone("na-siliconvalley-1").as_deref(),
            Some("na-siliconvalley")
        );
        assert_eq!(region_of_zone("ap-guangzhou"), None);
        assert_eq!(region_of_zone("3"), None);
    }

    #[test]
    fn single_blocks_unwrap_and_scalars_coerce() {
        let schema = ResourceKind::VpnConnection.schema();
        let hc = schema.attr("health_check_config").unwrap();
        let raw: Json = serde_json::json!([{"probe_type": "NQA", "probe_interval": 5000, "probe_threshold": "3", "probe_timeout": 150}]);
        let v = convert(&hc.ty, &raw).unwrap().unwrap();
        assert_eq!(v.get("probe_threshold"), Some(&Value::int(3)));
        assert_eq!(convert(&hc.ty, &serde_json::json!([])).unwrap(), None);
        assert!(convert(&hc.ty, &serde_json::json!([{}, {}])).is_err());
        let dpd = schema.attr("dpd_timeout").unwrap();
        assert_eq!(
            convert(&dpd.ty, &serde_json::json!("30")).unwrap(),
            Some(Value::int(30))
        );
        assert!(convert(&dpd.ty, &serde_json::json!("thirty")).is_err());
    }
}
