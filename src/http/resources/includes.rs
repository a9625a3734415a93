//! `include`: walks each relationship path from the primary data, asking each type for the related
//! resources the caller may see. A relationship the caller may not read is left without linkage
//! rather than failing the whole request; what is shown obeys the same rules as a direct read.

use super::kind::Cx;
use super::kind_named;
use crate::error::Error;
use crate::http::jsonapi::document::{Identifier, Linkage, ResourceObject};

pub async fn resolve_includes(
    cx: &Cx<'_>,
    primary: &mut [ResourceObject],
    paths: &[Vec<String>],
) -> Result<Vec<ResourceObject>, Error> {
    let mut included: Vec<ResourceObject> = Vec::new();
    for path in paths {
        let mut level: Vec<Identifier> = primary.iter().map(|r| r.identifier.clone()).collect();
        for segment in path {
            let mut next = Vec::new();
            for identifier in level {
                let Some(kind) = kind_named(identifier.kind) else { continue };
                let Some(rel) = kind.relationships().iter().find(|r| r.name == segment) else { continue };
                let Ok(id) = identifier.id.parse::<i64>() else { continue };
                let related = match kind.related(cx, id, rel).await {
                    Ok(related) => related,
                    Err(Error::Forbidden(_) | Error::NotFound) => continue,
                    Err(other) => return Err(other),
                };
                let ids: Vec<Identifier> = related.iter().map(|r| r.identifier.clone()).collect();
                let linkage =
                    if rel.to_many { Linkage::ToMany(ids.clone()) } else { Linkage::ToOne(ids.first().cloned()) };
                if let Some(owner) = find(primary, &mut included, &identifier) {
                    owner.set_linkage(rel.name, linkage);
                }
                for resource in related {
                    let known = primary.iter().chain(included.iter()).any(|r| r.identifier == resource.identifier);
                    if !known {
                        included.push(resource);
                    }
                }
                next.extend(ids);
            }
            next.sort();
            next.dedup();
            level = next;
        }
    }
    Ok(included)
}

fn find<'a>(
    primary: &'a mut [ResourceObject],
    included: &'a mut [ResourceObject],
    identifier: &Identifier,
) -> Option<&'a mut ResourceObject> {
    primary.iter_mut().chain(included.iter_mut()).find(|r| r.identifier == *identifier)
}
