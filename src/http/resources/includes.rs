//! `include`: walks each relationship path from the primary data, asking each type for the related
//! resources the caller may see. A relationship the caller may not read is left without linkage
//! rather than failing the whole request; what is shown obeys the same rules as a direct read.
//!
//! The walk is bounded (docs/limits.md). Each resource's relationship is looked up once however
//! many paths pass through it, and a request that would look up more than [`MAX_LOOKUPS`]
//! relationships, load more than [`MAX_LOADED`] related resources or include more than
//! [`MAX_INCLUDED`] is refused with 400 naming `include` when it gets there. It is not cut short
//! instead: a client reads a compound document as complete (full linkage), and could not tell.

use std::collections::{HashMap, HashSet};

use super::kind::Cx;
use super::kind_named;
use crate::error::Error;
use crate::http::jsonapi::document::{Identifier, Linkage, ResourceObject};

/// Resources in `included`: a full page (500) with two to-one relationships each.
pub const MAX_INCLUDED: usize = 1_000;
/// Relationship lookups (one or a few queries each): a full page with two relationships each.
pub const MAX_LOOKUPS: usize = 1_000;
/// Related resources loaded, counted each time a lookup loads one (members of large
/// organizations, seen from each of their users).
pub const MAX_LOADED: usize = 10_000;

pub async fn resolve_includes(
    cx: &Cx<'_>,
    primary: &mut [ResourceObject],
    paths: &[Vec<String>],
) -> Result<Vec<ResourceObject>, Error> {
    let mut walk = Walk {
        known: primary.iter().map(|r| r.identifier.clone()).collect(),
        included: Vec::new(),
        followed: HashMap::new(),
        lookups: 0,
        loaded: 0,
    };
    for path in paths {
        let mut level: Vec<Identifier> = primary.iter().map(|r| r.identifier.clone()).collect();
        for segment in path {
            let mut next = Vec::new();
            for identifier in level {
                next.extend(walk.follow(cx, primary, &identifier, segment).await?);
            }
            next.sort();
            next.dedup();
            level = next;
        }
    }
    Ok(walk.included)
}

/// One request's includes so far.
struct Walk {
    /// Every resource in the document, primary or included.
    known: HashSet<Identifier>,
    included: Vec<ResourceObject>,
    /// Relationships already looked up, and what they link to.
    followed: HashMap<(Identifier, &'static str), Vec<Identifier>>,
    lookups: usize,
    loaded: usize,
}

impl Walk {
    /// What `identifier`'s relationship `name` links to. The first time, it is looked up: the
    /// linkage is set on the resource, and related resources not yet in the document are included.
    async fn follow(
        &mut self,
        cx: &Cx<'_>,
        primary: &mut [ResourceObject],
        identifier: &Identifier,
        name: &str,
    ) -> Result<Vec<Identifier>, Error> {
        let Some(kind) = kind_named(identifier.kind) else { return Ok(Vec::new()) };
        let Some(rel) = kind.relationships().iter().find(|r| r.name == name) else { return Ok(Vec::new()) };
        let key = (identifier.clone(), rel.name);
        if let Some(ids) = self.followed.get(&key) {
            return Ok(ids.clone());
        }
        let Ok(id) = identifier.id.parse::<i64>() else { return Ok(Vec::new()) };
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(too_much(format!("would follow more than {MAX_LOOKUPS} relationships")));
        }
        let related = match kind.related(cx, id, rel).await {
            Ok(related) => related,
            Err(Error::Forbidden(_) | Error::NotFound) => {
                self.followed.insert(key, Vec::new());
                return Ok(Vec::new());
            }
            Err(other) => return Err(other),
        };
        self.loaded += related.len();
        if self.loaded > MAX_LOADED {
            return Err(too_much(format!("would load more than {MAX_LOADED} related resources")));
        }
        let ids: Vec<Identifier> = related.iter().map(|r| r.identifier.clone()).collect();
        let linkage = if rel.to_many { Linkage::ToMany(ids.clone()) } else { Linkage::ToOne(ids.first().cloned()) };
        if let Some(owner) = primary.iter_mut().chain(self.included.iter_mut()).find(|r| r.identifier == *identifier) {
            owner.set_linkage(rel.name, linkage);
        }
        for resource in related {
            if self.known.insert(resource.identifier.clone()) {
                if self.included.len() == MAX_INCLUDED {
                    return Err(too_much(format!("would include more than {MAX_INCLUDED} resources")));
                }
                self.included.push(resource);
            }
        }
        self.followed.insert(key, ids.clone());
        Ok(ids)
    }
}

fn too_much(what: String) -> Error {
    Error::bad_parameter("include", format!("{what}; ask for fewer paths or a smaller page[size]"))
}
