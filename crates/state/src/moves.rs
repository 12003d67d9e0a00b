//! Moving objects to other addresses in a state: what `tunnelform state mv` and `moved` blocks do.
//!
//! A move names either a whole resource (`TYPE.NAME`: every instance moves, keeping its key) or one
//! instance (`TYPE.NAME[KEY]`, or `TYPE.NAME` standing for the instance without a key when the
//! other side names an instance, as when `count` or `for_each` is added). Both sides must be managed
//! resources of the same type. Nothing moves onto an address the state already holds, and the
//! dependencies other objects record follow the move. Only the state changes: the cloud is never
//! asked.

use tunnelform_model::{Address, Mode};

use crate::state::State;

/// Why a move cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error(
        "{from} and {to} are resources of different types: an object keeps its type when it moves"
    )]
    TypeMismatch { from: Address, to: Address },
    #[error("{addr} is a data source: only managed resources move (data sources are read again on every plan)")]
    DataSource { addr: Address },
    #[error("{from} is not in the state")]
    NotFound { from: Address },
    #[error("cannot move {from} to {to}: the state already holds an object at {to}")]
    Occupied { from: Address, to: Address },
    #[error("cannot move {from} to {to}: {from} has more than the instance without a key, so it must move to a whole resource (without [KEY])")]
    ResourceToInstance { from: Address, to: Address },
}

/// The instance renames that moving `from` to `to` makes in `state`, without changing it.
/// An empty list when `from` names nothing in the state.
pub fn plan_move(
    state: &State,
    from: &Address,
    to: &Address,
) -> Result<Vec<(Address, Address)>, MoveError> {
    for a in [from, to] {
        if a.mode != Mode::Managed {
            return Err(MoveError::DataSource { addr: a.clone() });
        }
    }
    if from.type_name != to.type_name {
        return Err(MoveError::TypeMismatch {
            from: from.clone(),
            to: to.clone(),
        });
    }
    let resource_level = from.key.is_none() && to.key.is_none();
    let renames: Vec<(Address, Address)> = if resource_level {
        state
            .resources
            .keys()
            .filter(|a| from.contains(a))
            .map(|a| (a.clone(), to.clone().with_key(a.key.clone())))
            .collect()
    } else {
        // One instance: `TYPE.NAME` on one side is its instance without a key.
        if from.key.is_none()
            && state
                .resources
                .keys()
                .any(|a| from.contains(a) && a.key.is_some())
        {
            return Err(MoveError::ResourceToInstance {
                from: from.clone(),
                to: to.clone(),
            });
        }
        if state.resources.contains_key(from) {
            vec![(from.clone(), to.clone())]
        } else {
            Vec::new()
        }
    };
    for (old, new) in &renames {
        if old != new && state.resources.contains_key(new) && !renames.iter().any(|(o, _)| o == new)
        {
            return Err(MoveError::Occupied {
                from: old.clone(),
                to: new.clone(),
            });
        }
    }
    Ok(renames)
}

/// Applies renames made by [`plan_move`] (or recorded in a plan) to `state`: the objects change
/// address and the dependencies that name them follow. Renames whose source is not in the state
/// are skipped (already applied).
pub fn apply_renames(state: &mut State, renames: &[(Address, Address)]) {
    let mut moved: Vec<(Address, Address)> = Vec::new();
    let mut objects = Vec::new();
    for (old, new) in renames {
        if old == new {
            continue;
        }
        if let Some(rs) = state.resources.remove(old) {
            moved.push((old.clone(), new.clone()));
            objects.push((new.clone(), rs));
        }
    }
    if moved.is_empty() {
        return;
    }
    state.resources.extend(objects);
    let block = |a: &Address| Address {
        key: None,
        ..a.clone()
    };
    let remaining: std::collections::BTreeSet<Address> =
        state.resources.keys().map(block).collect();
    for rs in state.resources.values_mut() {
        if !rs.dependencies.iter().any(|d| {
            moved
                .iter()
                .any(|(old, _)| d == old || (d.key.is_none() && d.contains(old)))
        }) {
            continue;
        }
        let mut out = std::collections::BTreeSet::new();
        for d in std::mem::take(&mut rs.dependencies) {
            if let Some((_, new)) = moved.iter().find(|(old, _)| *old == d) {
                out.insert(new.clone());
                continue;
            }
            if d.key.is_none() {
                // A dependency on a whole block: on the blocks its instances moved to, and on
                // itself while it still has instances.
                let mut followed = false;
                for (old, new) in &moved {
                    if d.contains(old) && block(old) != block(new) {
                        out.insert(block(new));
                        followed = true;
                    }
                }
                if !followed || remaining.contains(&d) {
                    out.insert(d);
                }
            } else {
                out.insert(d);
            }
        }
        rs.dependencies = out.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Origin, ResourceState};
    use tunnelform_model::{InstanceKey, Map};

    fn rs(type_name: &str, id: &str, deps: &[Address]) -> ResourceState {
        ResourceState {
            attributes: Map::new(),
            create_before_destroy: false,
            dependencies: deps.iter().cloned().collect(),
            deposed: Vec::new(),
            id: id.into(),
            mode: Mode::Managed,
            origin: Origin::Created,
            ownership_tags: true,
            provider_alias: None,
            region: "ap-guangzhou".into(),
            secret_digests: Default::default(),
            tainted: false,
            type_name: type_name.into(),
        }
    }

    fn a(s: &str) -> Address {
        s.parse().unwrap()
    }

    fn state() -> State {
        let mut s = State::new();
        s.resources.insert(
            a("tencentcloud_vpn_gateway.gw"),
            rs("tencentcloud_vpn_gateway", "vpngw-1", &[]),
        );
        for k in ["sh", "bj"] {
            s.resources.insert(
                a(&format!("tencentcloud_vpn_connection.t[\"{k}\"]")),
                rs(
                    "tencentcloud_vpn_connection",
                    &format!("vpnx-{k}"),
                    &[a("tencentcloud_vpn_gateway.gw")],
                ),
            );
        }
        s
    }

    #[test]
    fn a_resource_moves_with_its_instances_and_dependencies_follow() {
        let mut s = state();
        let r = plan_move(
            &s,
            &a("tencentcloud_vpn_gateway.gw"),
            &a("tencentcloud_vpn_gateway.main"),
        )
        .unwrap();
        assert_eq!(
            r,
            vec![(
                a("tencentcloud_vpn_gateway.gw"),
                a("tencentcloud_vpn_gateway.main")
            )]
        );
        apply_renames(&mut s, &r);
        assert!(s
            .resources
            .contains_key(&a("tencentcloud_vpn_gateway.main")));
        let t = &s.resources[&a("tencentcloud_vpn_connection.t[\"sh\"]")];
        assert_eq!(
            t.dependencies.iter().collect::<Vec<_>>(),
            vec![&a("tencentcloud_vpn_gateway.main")]
        );

        let r = plan_move(
            &s,
            &a("tencentcloud_vpn_connection.t"),
            &a("tencentcloud_vpn_connection.tunnel"),
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        apply_renames(&mut s, &r);
        assert_eq!(
            s.resources[&a("tencentcloud_vpn_connection.tunnel[\"bj\"]")].id,
            "vpnx-bj"
        );
        assert!(!s.resources.keys().any(|k| k.name == "t"));
    }

    #[test]
    fn instances_move_one_at_a_time_and_count_can_be_added() {
        let mut s = state();
        let r = plan_move(
            &s,
            &a("tencentcloud_vpn_connection.t[\"sh\"]"),
            &a("tencentcloud_vpn_connection.t[\"shanghai\"]"),
        )
        .unwrap();
        apply_renames(&mut s, &r);
        assert_eq!(
            s.resources[&a("tencentcloud_vpn_connection.t[\"shanghai\"]")].id,
            "vpnx-sh"
        );
        let r = plan_move(
            &s,
            &a("tencentcloud_vpn_gateway.gw"),
            &a("tencentcloud_vpn_gateway.gw[0]"),
        )
        .unwrap();
        apply_renames(&mut s, &r);
        assert_eq!(
            s.resources[&a("tencentcloud_vpn_gateway.gw").with_key(Some(InstanceKey::Index(0)))].id,
            "vpngw-1"
        );
    }

    #[test]
    fn moves_the_state_cannot_make_are_refused() {
        let s = state();
        assert!(matches!(
            plan_move(
                &s,
                &a("tencentcloud_vpn_gateway.gw"),
                &a("tencentcloud_vpn_connection.gw")
            ),
            Err(MoveError::TypeMismatch { .. })
        ));
        assert!(matches!(
            plan_move(
                &s,
                &a("data.tencentcloud_vpn_gateways.x"),
                &a("data.tencentcloud_vpn_gateways.y")
            ),
            Err(MoveError::DataSource { .. })
        ));
        let e = plan_move(
            &s,
            &a("tencentcloud_vpn_connection.t[\"sh\"]"),
            &a("tencentcloud_vpn_connection.t[\"bj\"]"),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "cannot move tencentcloud_vpn_connection.t[\"sh\"] to tencentcloud_vpn_connection.t[\"bj\"]: the state already holds an object at tencentcloud_vpn_connection.t[\"bj\"]");
        assert!(matches!(
            plan_move(
                &s,
                &a("tencentcloud_vpn_connection.t"),
                &a("tencentcloud_vpn_connection.u[0]")
            ),
            Err(MoveError::ResourceToInstance { .. })
        ));
        assert_eq!(
            plan_move(
                &s,
                &a("tencentcloud_vpn_gateway.nope"),
                &a("tencentcloud_vpn_gateway.x")
            )
            .unwrap(),
            vec![]
        );
    }
}
