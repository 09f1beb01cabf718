//! Which secrets go into which key, from what the probe render showed.
//!
//! Each pod needs what the post-renderer would add to it (the engine's plan of the chart rendered
//! with the user's values). Each key reaches the pods where its probe marker landed. A pod's
//! missing secret goes into the most specific key reaching it: the one that would give it to
//! the fewest pods that do not need it, then the one reaching fewest pods, a component's key
//! before a global one. A key is never given a secret that some pod it reaches already lists
//! (charts that concatenate `global.imagePullSecrets` with a component's key would list it
//! twice), and keys that reach no pod get nothing, unless they reach another document that
//! names images (see [`super::images`]). A secret no key can bring is reported with its pod.

use super::keys::{Candidate, ItemShape};
use super::render::Pod;
use super::tree::{Map, Yaml};

/// What the probe showed for one candidate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reach {
    /// Indexes into the pods, one per time the marker landed (twice: the template uses the key
    /// twice for that pod).
    pub pods: Vec<usize>,
    /// Titles of other documents (a ConfigMap) the marker landed in.
    pub others: Vec<String>,
}

impl Reach {
    fn count(&self, pod: usize) -> usize {
        self.pods.iter().filter(|&&p| p == pod).count()
    }

    fn distinct(&self) -> Vec<usize> {
        let mut pods = self.pods.clone();
        pods.dedup();
        pods.sort_unstable();
        pods.dedup();
        pods
    }
}

/// Why a key got the secrets it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The probe showed it reaching these pods.
    Pods(Vec<String>),
    /// It reaches only documents that are not pods (a ConfigMap an application starts pods
    /// from): the registries of the images named next to it decide.
    Elsewhere {
        docs: Vec<String>,
        hosts: Vec<String>,
    },
    /// Its marker landed nowhere: nothing in the chart reads it with these values.
    Unused,
}

/// One key of the override.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPlan {
    pub path: Vec<String>,
    /// The entries Helm would use without the override (user values, else chart defaults).
    pub existing: Vec<Yaml>,
    /// What the override adds.
    pub added: Vec<String>,
    pub shape: ItemShape,
    pub basis: Basis,
    /// One name as a string, not a list.
    pub single: bool,
}

impl KeyPlan {
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// The list the override sets: existing entries, then the added ones.
    pub fn list(&self) -> Vec<Yaml> {
        let mut items = self.existing.clone();
        items.extend(self.added.iter().map(|name| item(name, self.shape)));
        items
    }
}

pub fn item(name: &str, shape: ItemShape) -> Yaml {
    match shape {
        ItemShape::NameRef => Yaml::Map(Map::from_iter([(
            "name".to_string(),
            Yaml::Str(name.to_string()),
        )])),
        ItemShape::Plain => Yaml::Str(name.to_string()),
    }
}

/// A pod that still lacks secrets after the override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreached {
    pub pod: String,
    pub missing: Vec<String>,
    /// No key reaches it at all (else: every key reaching it would list a secret twice
    /// somewhere).
    pub no_key: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValuesOverride {
    /// Every candidate, in discovery order; those with nothing to add are not in the output.
    pub keys: Vec<KeyPlan>,
    pub unreached: Vec<Unreached>,
    pub warnings: Vec<String>,
}

impl ValuesOverride {
    /// The override as a values tree: only keys that gain a secret.
    pub fn values(&self) -> Map {
        let mut root = Map::new();
        for key in self.keys.iter().filter(|k| !k.added.is_empty()) {
            let value = if key.single {
                Yaml::Str(key.added[0].clone())
            } else {
                Yaml::Seq(key.list())
            };
            set(&mut root, &key.path, value);
        }
        root
    }
}

/// Sets `path` in `root`, creating mappings on the way (replacing what is not one).
pub fn set(root: &mut Map, path: &[String], value: Yaml) {
    let (last, parents) = path.split_last().expect("a key path is never empty");
    let mut map = root;
    for p in parents {
        let entry = map.entry(p.clone()).or_insert(Yaml::Map(Map::new()));
        if !matches!(entry, Yaml::Map(_)) {
            *entry = Yaml::Map(Map::new());
        }
        let Yaml::Map(m) = entry else { unreachable!() };
        map = m;
    }
    map.insert(last.clone(), value);
}

/// The assignment. `needs[p]` are the secrets pod `p` lacks; `near(i)` gives the secrets and
/// image hosts for candidate `i` that reaches only other documents.
pub fn assign(
    candidates: &[Candidate],
    shapes: &[ItemShape],
    reach: &[Reach],
    pods: &[Pod],
    needs: &[Vec<String>],
    near: &mut dyn FnMut(usize) -> (Vec<String>, Vec<String>),
) -> ValuesOverride {
    let mut have: Vec<Vec<String>> = pods.iter().map(Pod::names).collect();
    let mut added: Vec<Vec<String>> = vec![Vec::new(); candidates.len()];
    let mut unreached = Vec::new();
    let reaching_of = |p: usize| -> Vec<usize> {
        (0..candidates.len())
            .filter(|&k| reach[k].count(p) > 0)
            .collect()
    };
    // The pods with the fewest keys first: their choice is the narrowest.
    let mut order: Vec<usize> = (0..pods.len()).collect();
    order.sort_by_key(|&p| reaching_of(p).len());
    for p in order {
        let pod = &pods[p];
        let mut missing = Vec::new();
        let reaching = reaching_of(p);
        for secret in &needs[p] {
            if have[p].contains(secret) {
                continue;
            }
            let best = reaching
                .iter()
                .copied()
                // A one-name key takes a secret only while it is empty.
                .filter(|&k| {
                    !candidates[k].single
                        || (candidates[k].existing.is_empty() && added[k].is_empty())
                })
                .filter(|&k| {
                    reach[k]
                        .distinct()
                        .iter()
                        .all(|&q| reach[k].count(q) == 1 && !have[q].contains(secret))
                })
                .min_by_key(|&k| {
                    let pods_reached = reach[k].distinct();
                    let spill = pods_reached
                        .iter()
                        .filter(|&&q| !needs[q].contains(secret))
                        .count();
                    let covered = pods_reached.len() - spill;
                    (
                        spill,
                        std::cmp::Reverse(covered),
                        candidates[k].is_global(),
                        k,
                    )
                });
            match best {
                Some(k) => {
                    added[k].push(secret.clone());
                    for q in reach[k].distinct() {
                        have[q].push(secret.clone());
                    }
                }
                None => missing.push(secret.clone()),
            }
        }
        if !missing.is_empty() {
            unreached.push(Unreached {
                pod: pod.title(),
                missing,
                no_key: reaching.is_empty(),
            });
        }
    }

    let keys = candidates
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let pods_reached = reach[k].distinct();
            let (basis, mut add) = if !pods_reached.is_empty() {
                (
                    Basis::Pods(pods_reached.iter().map(|&p| pods[p].title()).collect()),
                    std::mem::take(&mut added[k]),
                )
            } else if !reach[k].others.is_empty() {
                let (secrets, hosts) = near(k);
                (
                    Basis::Elsewhere {
                        docs: reach[k].others.clone(),
                        hosts,
                    },
                    secrets,
                )
            } else {
                (Basis::Unused, Vec::new())
            };
            let names: Vec<String> = c
                .existing
                .iter()
                .filter_map(super::render::entry_name)
                .collect();
            add.retain(|s| !names.contains(s));
            KeyPlan {
                path: c.path.clone(),
                existing: c.existing.clone(),
                added: add,
                shape: shapes[k],
                basis,
                single: c.single,
            }
        })
        .collect();
    ValuesOverride {
        keys,
        unreached,
        warnings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, entries: &[&str]) -> Pod {
        Pod {
            kind: "Deployment".into(),
            name: name.into(),
            source: None,
            entries: entries
                .iter()
                .map(|e| item(e, ItemShape::NameRef))
                .collect(),
        }
    }

    fn candidate(path: &str) -> Candidate {
        Candidate {
            path: path.split('.').map(str::to_string).collect(),
            existing: Vec::new(),
            shape: None,
            schema_shape: false,
            single: false,
        }
    }

    fn reach(pods: &[usize]) -> Reach {
        Reach {
            pods: pods.to_vec(),
            others: Vec::new(),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn run(keys: &[&str], reaches: Vec<Reach>, pods: &[Pod], needs: &[&[&str]]) -> ValuesOverride {
        let candidates: Vec<Candidate> = keys.iter().map(|k| candidate(k)).collect();
        let shapes = vec![ItemShape::NameRef; keys.len()];
        let needs: Vec<Vec<String>> = needs.iter().map(|n| strings(n)).collect();
        assign(&candidates, &shapes, &reaches, pods, &needs, &mut |_| {
            (strings(&["near"]), strings(&["jobs.example.com"]))
        })
    }

    fn added(plan: &ValuesOverride, key: &str) -> Vec<String> {
        plan.keys
            .iter()
            .find(|k| k.dotted() == key)
            .unwrap()
            .added
            .clone()
    }

    /// Issue 14 item 5: kube-state-metrics joins `global.imagePullSecrets` with its own key.
    #[test]
    fn concatenated_keys_are_filled_once() {
        let pods = [pod("a", &[]), pod("b", &[])];
        let plan = run(
            &[
                "global.imagePullSecrets",
                "a.imagePullSecrets",
                "b.imagePullSecrets",
            ],
            vec![reach(&[0, 1]), reach(&[0]), reach(&[1])],
            &pods,
            &[&["s1", "s2"], &["s2"]],
        );
        // s2 is wanted by both pods: the global key gives it to both at once; s1 only by a,
        // through its own key (the global one would give it to b too).
        assert_eq!(added(&plan, "global.imagePullSecrets"), ["s2"]);
        assert_eq!(added(&plan, "a.imagePullSecrets"), ["s1"]);
        assert!(added(&plan, "b.imagePullSecrets").is_empty());
        assert!(plan.unreached.is_empty());
    }

    #[test]
    fn a_secret_already_listed_through_one_key_is_not_added_through_another() {
        // Pod b already has s through its own default; the global key would list it twice.
        let pods = [pod("a", &[]), pod("b", &["s"])];
        let plan = run(
            &["global.imagePullSecrets", "a.imagePullSecrets"],
            vec![reach(&[0, 1]), reach(&[0])],
            &pods,
            &[&["s"], &[]],
        );
        assert!(added(&plan, "global.imagePullSecrets").is_empty());
        assert_eq!(added(&plan, "a.imagePullSecrets"), ["s"]);
    }

    #[test]
    fn pods_no_key_reaches_are_named_and_unused_keys_get_nothing() {
        let pods = [pod("a", &[]), pod("lonely", &[])];
        let plan = run(
            &[
                "a.imagePullSecrets",
                "unused.imagePullSecrets",
                "cfg.imagePullSecrets",
            ],
            vec![
                reach(&[0]),
                reach(&[]),
                Reach {
                    pods: vec![],
                    others: strings(&["ConfigMap/cfg"]),
                },
            ],
            &pods,
            &[&["s"], &["s", "t"]],
        );
        assert_eq!(
            plan.unreached,
            [Unreached {
                pod: "Deployment/lonely".into(),
                missing: strings(&["s", "t"]),
                no_key: true
            }]
        );
        assert!(added(&plan, "unused.imagePullSecrets").is_empty());
        assert_eq!(plan.keys[1].basis, Basis::Unused);
        assert_eq!(added(&plan, "cfg.imagePullSecrets"), ["near"]);
        assert!(!plan.values().contains_key("unused"));
    }

    /// kube-state-metrics: one pod reads `global.imagePullSecrets` and its own key.
    #[test]
    fn one_pod_two_keys_prefers_its_own() {
        let pods = [pod("a", &[])];
        let plan = run(
            &["global.imagePullSecrets", "imagePullSecrets"],
            vec![reach(&[0]), reach(&[0])],
            &pods,
            &[&["s"]],
        );
        assert!(added(&plan, "global.imagePullSecrets").is_empty());
        assert_eq!(added(&plan, "imagePullSecrets"), ["s"]);
    }

    /// A pod only the global key reaches decides first, even when it comes last.
    #[test]
    fn the_narrowest_pod_chooses_first() {
        let pods = [pod("a", &[]), pod("c", &[]), pod("b", &[])];
        let plan = run(
            &[
                "global.imagePullSecrets",
                "a.imagePullSecrets",
                "c.imagePullSecrets",
            ],
            vec![reach(&[0, 1, 2]), reach(&[0]), reach(&[1])],
            &pods,
            &[&["s"], &[], &["s"]],
        );
        assert_eq!(added(&plan, "global.imagePullSecrets"), ["s"]);
        assert!(added(&plan, "a.imagePullSecrets").is_empty());
        assert!(plan.unreached.is_empty());
    }

    #[test]
    fn a_one_name_key_takes_one_secret() {
        let pods = [pod("a", &[])];
        let mut candidates = vec![candidate("imagePullSecret"), candidate("extra.pullSecrets")];
        candidates[0].single = true;
        let shapes = vec![ItemShape::Plain, ItemShape::NameRef];
        let needs = vec![strings(&["s1", "s2"])];
        let plan = assign(
            &candidates,
            &shapes,
            &[reach(&[0]), reach(&[0])],
            &pods,
            &needs,
            &mut |_| (Vec::new(), Vec::new()),
        );
        assert_eq!(added(&plan, "imagePullSecret"), ["s1"]);
        assert_eq!(added(&plan, "extra.pullSecrets"), ["s2"]);
        assert_eq!(plan.values()["imagePullSecret"], Yaml::Str("s1".into()));
    }

    #[test]
    fn a_key_used_twice_in_one_pod_is_avoided() {
        let pods = [pod("a", &[])];
        let plan = run(
            &["twice.imagePullSecrets", "once.imagePullSecrets"],
            vec![reach(&[0, 0]), reach(&[0])],
            &pods,
            &[&["s"]],
        );
        assert!(added(&plan, "twice.imagePullSecrets").is_empty());
        assert_eq!(added(&plan, "once.imagePullSecrets"), ["s"]);
    }
}
