//! Bounds on {json:api} read parameters (docs/limits.md): `include` paths, their depth and the
//! resources one request may include, and the lists in `filter`, `sort` and `fields`. Beyond them a
//! request gets 400 with `source.parameter` naming the parameter, before the work is done.

use authify::store::entity::organization_membership;
use authify::store::users;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::support::app::{Backend, TestApp, spawn};
use crate::support::jsonapi::ApiResponse;

backend_tests!(
    include_paths_too_many_or_too_deep_are_400_naming_include,
    duplicate_and_prefix_include_paths_are_folded,
    a_read_that_would_include_or_follow_too_much_is_400_and_a_big_allowed_one_answers,
    filter_sort_and_fields_lists_beyond_their_bounds_are_400,
    a_query_parameter_given_twice_is_400_naming_it,
);

/// The 400 error object of `response`, asserting that it names `parameter`.
fn refused<'a>(response: &'a ApiResponse, parameter: &str) -> &'a Value {
    let error = response.error(400);
    assert_eq!(error["source"]["parameter"], parameter, "{}", response.body);
    assert_eq!(error["code"], "AUTH-0011");
    error
}

/// Nine distinct relationship paths from a user (none a prefix of another).
const NINE_PATHS: [&str; 9] = [
    "organizations.admins",
    "organizations.groups",
    "groups.organization",
    "groups.users",
    "apikeys.user",
    "identities.user",
    "organizations.users.apikeys",
    "organizations.users.identities",
    "organizations.users.groups",
];

async fn include_paths_too_many_or_too_deep_are_400_naming_include(backend: Backend) {
    let app = spawn(backend).start().await;
    let (alice, alice_as) = app.user_with_token("alice@example.com", false).await;
    app.create_organization(&alice_as, "Acme").await;

    let deep = app.api_get(&format!("/users/{alice}?include=organizations.users.organizations.users"), &alice_as).await;
    assert!(refused(&deep, "include")["detail"].as_str().expect("detail").contains("3 relationships deep"));
    let many = app.api_get(&format!("/users/{alice}?include={}", NINE_PATHS.join(",")), &alice_as).await;
    assert!(refused(&many, "include")["detail"].as_str().expect("detail").contains("8 distinct"));
    // The review's request: 16 paths, each hundreds of relationships deep, in one long URL.
    let long: Vec<String> = (0..16).map(|_| vec!["organizations.users"; 150].join(".")).collect();
    refused(&app.api_get(&format!("/users/{alice}?include={}", long.join(",")), &alice_as).await, "include");

    let fine = app.api_get(&format!("/users/{alice}?include=organizations.users"), &alice_as).await;
    assert_eq!(fine.status, 200, "{}", fine.body);
    assert_eq!(fine.body["included"][0]["attributes"]["name"], "Acme");
    let eight = app.api_get(&format!("/users/{alice}?include={}", NINE_PATHS[..8].join(",")), &alice_as).await;
    assert_eq!(eight.status, 200, "{}", eight.body);
}

async fn duplicate_and_prefix_include_paths_are_folded(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, alice_as) = app.user_with_token("alice@example.com", false).await;
    let (_, root) = app.user_with_token("root@example.com", true).await;
    let org = app.create_organization(&alice_as, "Acme").await;
    // Each of the eight paths, its prefixes and repeats: 8 distinct paths once folded.
    let mut paths = Vec::new();
    for path in &NINE_PATHS[..8] {
        let segments: Vec<&str> = path.split('.').collect();
        for end in 1..=segments.len() {
            paths.push(segments[..end].join("."));
            paths.push(segments[..end].join("."));
        }
    }
    assert!(paths.len() > 30);
    let listed = app.api_get(&format!("/users?filter[handle]=alice&include={}", paths.join(",")), &root).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let included = listed.body["included"].as_array().expect("included");
    assert_eq!(included.len(), 1, "the organization, once: {included:?}");
    assert_eq!(included[0]["id"], org.to_string());
    let first = listed.body["links"]["first"].as_str().expect("first link");
    let include = first.split('&').find_map(|p| p.strip_prefix("/users?include=")).expect("include kept in links");
    assert_eq!(include.split("%2C").count(), 8, "the links carry the folded paths: {first}");
}

/// `count` verified users without passwords (no hashing), in one statement over a connection of
/// its own; their ids.
async fn many_users(app: &TestApp, count: usize) -> Vec<i64> {
    let db = Database::connect(app.db.url.as_str()).await.expect("connect");
    let now = app.clock_now();
    let rows = (0..count).map(|n| users::ActiveModel {
        email: Set(format!("member{n}@example.com")),
        handle: Set(format!("member{n}")),
        full_name: Set(None),
        password_digest: Set(None),
        admin: Set(false),
        verified: Set(true),
        disabled: Set(false),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    users::Entity::insert_many(rows).exec(&db).await.expect("insert users");
    let members = users::Entity::find().filter(users::Column::Handle.starts_with("member"));
    let ids = members.all(&db).await.expect("read the users").into_iter().map(|user| user.id).collect::<Vec<_>>();
    db.close().await.expect("close");
    assert_eq!(ids.len(), count);
    ids
}

/// Makes `users` members of `org` in one statement, over a connection of its own.
async fn join(app: &TestApp, org: i64, users: &[i64]) {
    let db = Database::connect(app.db.url.as_str()).await.expect("connect");
    let rows = users.iter().map(|user| organization_membership::ActiveModel {
        organization_id: Set(org),
        user_id: Set(*user),
        admin: Set(false),
        created_at: Set(app.clock_now()),
        ..Default::default()
    });
    organization_membership::Entity::insert_many(rows).exec(&db).await.expect("insert memberships");
    db.close().await.expect("close");
}

async fn a_read_that_would_include_or_follow_too_much_is_400_and_a_big_allowed_one_answers(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, alice_as) = app.user_with_token("alice@example.com", false).await;
    let (_, root) = app.user_with_token("root@example.com", true).await;
    let org = app.create_organization(&alice_as, "Acme").await;
    let members = many_users(&app, 1000).await;
    join(&app, org, &members).await;

    let everyone = app.api_get(&format!("/organizations/{org}?include=users"), &alice_as).await;
    let detail = refused(&everyone, "include")["detail"].as_str().expect("detail").to_owned();
    assert!(detail.contains("more than 1000 resources"), "{detail}");
    let three_each = app.api_get("/users?page[size]=500&include=organizations,groups,apikeys", &root).await;
    let detail = refused(&three_each, "include")["detail"].as_str().expect("detail").to_owned();
    assert!(detail.contains("more than 1000 relationships"), "{detail}");

    let page =
        app.api_get(&format!("/organizations/{org}/users?page[size]=500&include=organizations"), &alice_as).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.ids().len(), 500);
    assert_eq!(page.body["included"].as_array().expect("included").len(), 1, "the organization, once");
    let two_each = app.api_get("/users?page[size]=500&include=organizations,groups", &root).await;
    assert_eq!(two_each.status, 200, "{}", two_each.body);
    assert_eq!(two_each.body["meta"]["total"], json!(1002));

    // Ten organizations of the same members: each user on the page loads its ten organizations
    // (5,000 in all), and each organization its 1,001 members.
    for n in 1..10 {
        let other = app.create_organization(&alice_as, &format!("Acme {n}")).await;
        join(&app, other, &members).await;
    }
    let path = format!("/organizations/{org}/users?page[size]=500&include=organizations.users");
    let loads = app.api_get(&path, &alice_as).await;
    let detail = refused(&loads, "include")["detail"].as_str().expect("detail").to_owned();
    assert!(detail.contains("more than 10000 related resources"), "{detail}");
}

async fn filter_sort_and_fields_lists_beyond_their_bounds_are_400(backend: Backend) {
    let app = spawn(backend).start().await;
    let (_, root) = app.user_with_token("root@example.com", true).await;
    let handles: Vec<String> = (0..101).map(|n| format!("h{n}")).collect();
    refused(&app.api_get(&format!("/users?filter[handle]={}", handles.join(",")), &root).await, "filter[handle]");
    let long = "x".repeat(257);
    refused(&app.api_get(&format!("/users?filter[handle]={long}"), &root).await, "filter[handle]");
    refused(&app.api_get("/users?sort=handle,-handle", &root).await, "sort");
    let names = vec!["handle"; 101].join(",");
    refused(&app.api_get(&format!("/users?fields[users]={names}"), &root).await, "fields[users]");

    let fine =
        app.api_get(&format!("/users?filter[handle]={},root&sort=-handle,id", handles[..99].join(",")), &root).await;
    assert_eq!(fine.status, 200, "{}", fine.body);
    assert_eq!(fine.ids().len(), 1);
}

async fn a_query_parameter_given_twice_is_400_naming_it(backend: Backend) {
    let app = spawn(backend).start().await;
    let (alice, alice_as) = app.user_with_token("alice@example.com", false).await;
    let (_, root) = app.user_with_token("root@example.com", true).await;
    let user = format!("/users/{alice}");
    refused(&app.api_get(&format!("{user}?include=organizations&include=groups"), &alice_as).await, "include");
    refused(
        &app.api_get(&format!("{user}?fields[users]=handle&fields[users]=email"), &alice_as).await,
        "fields[users]",
    );
    refused(&app.api_get("/users?filter[handle]=a&filter[handle]=b", &root).await, "filter[handle]");
    refused(&app.api_get("/users?sort=id&sort=handle", &root).await, "sort");
    refused(&app.api_get("/users?page[size]=1&page[size]=2", &root).await, "page[size]");
    let as_list = app.api_get("/users?filter[handle]=alice,root&page[size]=1", &root).await;
    assert_eq!(as_list.status, 200, "{}", as_list.body);
    assert_eq!(as_list.body["meta"]["total"], json!(2));
}
