//! The people directory against 500 generated profiles: filters find exactly the right people,
//! free text ranks the best match first, and hidden profiles and fields reach nobody who may not
//! see them. Hubs: join requests, approval, the hub page.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use hubring_tests::{ApiClient, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CITIES: [(&str, &str); 10] = [
    ("Lisbon", "Portugal"),
    ("Porto", "Portugal"),
    ("Nantes", "France"),
    ("Bordeaux", "France"),
    ("Bilbao", "Spain"),
    ("Vigo", "Spain"),
    ("Cork", "Ireland"),
    ("Galway", "Ireland"),
    ("Cardiff", "United Kingdom"),
    ("Brest", "France"),
];
const SKILLS: [&str; 12] = [
    "ceramics",
    "illustration",
    "sound design",
    "weaving",
    "photography",
    "game design",
    "printmaking",
    "animation",
    "fundraising",
    "woodwork",
    "typography",
    "film editing",
];
const LANGUAGES: [&str; 5] = ["Portuguese", "French", "Spanish", "English", "Irish"];

/// The generated profile of person `i`.
#[derive(Debug, Clone)]
struct Person {
    email: String,
    name: String,
    city: &'static str,
    country: &'static str,
    skills: Vec<&'static str>,
    languages: Vec<&'static str>,
    bio: String,
    hidden: bool,
    show_email: bool,
}

fn person(i: usize) -> Person {
    let (city, country) = CITIES[i % CITIES.len()];
    let skills = vec![SKILLS[i % SKILLS.len()], SKILLS[(i * 7 + 3) % SKILLS.len()]];
    let mut languages = vec![LANGUAGES[i % LANGUAGES.len()]];
    if i.is_multiple_of(3) {
        languages.push("English");
    }
    languages.dedup();
    Person {
        email: format!("person{i}@hubs.example"),
        name: format!("Person {i:03}"),
        city,
        country,
        skills,
        languages,
        bio: format!("Member of a creative hub in {city}."),
        hidden: i % 25 == 7,
        show_email: i.is_multiple_of(2),
    }
}

async fn set_up(client: &ApiClient, p: &Person) -> anyhow::Result<()> {
    let reply = client
        .patch(
            "/me/profile",
            json!({
                "display_name": p.name, "city": p.city, "country": p.country, "skills": p.skills,
                "languages": p.languages, "bio": p.bio,
                "profile_visibility": if p.hidden { "hidden" } else { "network" },
                "show_email": p.show_email, "open_to": ["collaborating"],
            }),
        )
        .await?;
    anyhow::ensure!(reply.status == StatusCode::OK, "profile of {}: {reply:?}", p.email);
    Ok(())
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_finds_the_right_people_and_hides_what_it_must() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| {
        args.open_docs = Some(false);
        args.auth_per_minute = Some(10_000);
    })
    .await;
    let admin = ApiClient::signup(&server, "admin@hubs.example").await?;
    let people: Vec<Person> = (0..500).map(person).collect();
    // Sign-ups hash passwords on purpose slowly: a few at a time.
    let clients: Vec<(Person, ApiClient)> = futures_util::stream::iter(people.clone())
        .map(|p| {
            let server = &server;
            async move {
                let client = ApiClient::signup(server, &p.email).await?;
                set_up(&client, &p).await?;
                anyhow::Ok((p, client))
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let id_of = |email: &str| {
        clients
            .iter()
            .find(|(p, _)| p.email == email)
            .map(|(_, c)| c.id().to_owned())
            .unwrap_or_default()
    };
    let viewer = &clients[1].1;

    // Skill + city: exactly the listed people with that skill in that city.
    let page = viewer.get("/people?skill=Ceramics&city=lisbon&per_page=100").await?;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let want: BTreeSet<String> = people
        .iter()
        .filter(|p| !p.hidden && p.city == "Lisbon" && p.skills.contains(&"ceramics"))
        .map(|p| id_of(&p.email))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(ids(&page.body).into_iter().collect::<BTreeSet<_>>(), want);
    assert_eq!(page.body["total"], want.len());

    // The skill filter matches the start of a word, singular or plural: "ceramic" and
    // "CERAMIC" find everyone with "ceramics", "print" finds "printmaking", "editings" finds
    // "film editing"; a word's middle finds nothing.
    let with = |skill: &str| -> BTreeSet<String> {
        people
            .iter()
            .filter(|p| !p.hidden && p.skills.contains(&skill))
            .map(|p| id_of(&p.email))
            .collect()
    };
    for (typed, skill) in [
        ("ceramic", "ceramics"),
        ("CERAMIC", "ceramics"),
        ("print", "printmaking"),
        ("editings", "film editing"),
        ("woodworks", "woodwork"),
    ] {
        let page = viewer.get(&format!("/people?skill={typed}&per_page=100")).await?;
        let want = with(skill);
        assert!(!want.is_empty());
        assert_eq!(ids(&page.body).into_iter().collect::<BTreeSet<_>>(), want, "{typed}");
    }
    let page = viewer.get("/people?skill=eramics&per_page=100").await?;
    assert_eq!(page.body["total"], 0, "the middle of a word is not its start");
    let page = viewer.get("/people?skill=%25&per_page=100").await?;
    assert_eq!(page.body["total"], 0, "a % typed matches a %, not everything");

    // Language, across pages: every page together is exactly the right set, no repeats.
    let want: BTreeSet<String> = people
        .iter()
        .filter(|p| !p.hidden && p.languages.contains(&"Irish"))
        .map(|p| id_of(&p.email))
        .collect();
    let mut got = Vec::new();
    for page in 1.. {
        let reply = viewer.get(&format!("/people?language=irish&per_page=30&page={page}")).await?;
        assert_eq!(reply.body["total"], want.len());
        let batch = ids(&reply.body);
        if batch.is_empty() {
            break;
        }
        got.extend(batch);
    }
    assert_eq!(got.len(), want.len(), "no one twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);

    // Free text, best match first: a skill outranks a passing mention in a bio.
    let expert = ApiClient::signup(&server, "marta@hubs.example").await?;
    expert
        .patch(
            "/me/profile",
            json!({"display_name": "Marta Oliveira", "city": "Lisbon", "country": "Portugal",
                   "skills": ["bioplastics", "ceramics"], "disciplines": ["bioplastics"],
                   "bio": "Materials research: bioplastics for stage design."}),
        )
        .await?;
    let mention = ApiClient::signup(&server, "theo@hubs.example").await?;
    mention
        .patch(
            "/me/profile",
            json!({"display_name": "Theo Martin", "city": "Nantes", "country": "France",
                   "skills": ["lighting"], "bio": "Once tried bioplastics, went back to wood."}),
        )
        .await?;
    let found = viewer.get("/people?q=bioplastics").await?;
    let found = ids(&found.body);
    assert_eq!(found, vec![expert.id().to_owned(), mention.id().to_owned()], "best match first");
    let found = viewer.get("/people?q=bioplast%20lisbon").await?;
    assert_eq!(ids(&found.body), vec![expert.id().to_owned()], "every word must match");
    let nothing = viewer.get("/people?q=%22%3B%20DROP%20TABLE%20users%3B%20--").await?;
    assert_eq!(nothing.status, StatusCode::OK);
    assert_eq!(nothing.body["total"], 0);

    // Hidden profiles and fields.
    let hidden = people.iter().find(|p| p.hidden).expect("some hidden");
    let hidden_id = id_of(&hidden.email);
    let everyone = viewer.get("/people?per_page=100&page=1").await?;
    assert_eq!(
        everyone.body["total"].as_u64(),
        Some(people.iter().filter(|p| !p.hidden).count() as u64 + 3)
    );
    for page in 1..=6 {
        let reply = viewer.get(&format!("/people?per_page=100&page={page}")).await?;
        for p in reply.body["items"].as_array().into_iter().flatten() {
            assert_ne!(p["id"], hidden_id.as_str(), "a hidden profile was listed");
            // People see their own address whatever they chose; everyone else's as chosen.
            if p["id"].as_str() == Some(viewer.id()) {
                continue;
            }
            let email = people.iter().find(|q| Some(id_of(&q.email).as_str()) == p["id"].as_str());
            if let Some(q) = email {
                assert_eq!(
                    p["email"].is_string(),
                    q.show_email,
                    "{}: email shown {:?}",
                    q.email,
                    p["email"]
                );
            }
        }
    }
    assert_eq!(viewer.get(&format!("/people/{hidden_id}")).await?.status, StatusCode::NOT_FOUND);
    assert_eq!(admin.get(&format!("/people/{hidden_id}")).await?.status, StatusCode::OK);
    let own = clients.iter().find(|(p, _)| p.hidden).map(|(_, c)| c).expect("hidden client");
    let mine = own.get(&format!("/people/{hidden_id}")).await?;
    assert_eq!(mine.body["email"], hidden.email.as_str(), "people see their own email");
    assert_eq!(
        ApiClient::anonymous(&server).get("/people").await?.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(viewer.get("/people?per_page=1000").await?.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        viewer.get("/people?open_to=napping").await?.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubs_take_requests_that_managers_approve() -> anyhow::Result<()> {
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    let manager = ApiClient::signup(&server, "manager@hubs.example").await?;
    let artist = ApiClient::signup(&server, "artist@hubs.example").await?;
    let created = manager
        .post(
            "/hubs",
            json!({"name": "Casa Criativa", "city": "Porto", "country": "Portugal",
                   "time_zone": "Europe/Lisbon", "disciplines": ["ceramics"],
                   "facilities": ["kiln"], "website": "https://casa.example"}),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let hub = created.body["id"].as_str().unwrap_or_default().to_owned();
    let bad = manager
        .post("/hubs", json!({"name": "X", "city": "Y", "country": "Z", "time_zone": "nowhere"}))
        .await?;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["fields"]["time_zone"].is_string());
    // Checked against the time zone database, not for its shape: a zone that looks right but
    // does not exist is refused, and one typed in another case is kept as the database has it.
    for zone in ["Europe/Lisbn", "Mars/Olympus_Mons"] {
        let bad = manager
            .post("/hubs", json!({"name": "X", "city": "Y", "country": "Z", "time_zone": zone}))
            .await?;
        assert_eq!(bad.body["error"]["field_codes"]["time_zone"]["code"], "not_time_zone");
    }
    let cork = manager
        .post(
            "/hubs",
            json!({"name": "Cork Hub", "city": "Cork", "country": "Ireland",
                   "time_zone": "europe/dublin"}),
        )
        .await?;
    assert_eq!(cork.status, StatusCode::CREATED, "{cork:?}");
    let cork_id = cork.body["id"].as_str().unwrap_or_default();
    let cork = manager.get(&format!("/hubs/{cork_id}")).await?;
    assert_eq!(cork.body["time_zone"], "Europe/Dublin", "{cork:?}");

    let joined = artist.post(&format!("/hubs/{hub}/join"), json!({})).await?;
    assert_eq!(joined.body["role"], "requested");
    // Requests are the managers' business.
    let page = artist.get(&format!("/hubs/{hub}")).await?;
    assert_eq!(page.body["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(page.body["my_role"], "requested");
    let page = manager.get(&format!("/hubs/{hub}")).await?;
    assert_eq!(page.body["members"].as_array().map(Vec::len), Some(2));
    // Only managers approve; the artist cannot approve themselves.
    let selfish = artist
        .patch(&format!("/hubs/{hub}/members/{}", artist.id()), json!({"role": "member"}))
        .await?;
    assert_eq!(selfish.status, StatusCode::FORBIDDEN);
    let approved = manager
        .patch(&format!("/hubs/{hub}/members/{}", artist.id()), json!({"role": "member"}))
        .await?;
    assert_eq!(approved.status, StatusCode::NO_CONTENT);
    let filtered = manager.get(&format!("/people?hub={hub}")).await?;
    assert_eq!(filtered.body["total"], 2);

    // The hub page lists partner projects its viewer may see, and only those.
    for (title, visibility) in [("Open call", "network"), ("Internal", "private")] {
        manager
            .post("/projects", json!({"title": title, "visibility": visibility, "hub_ids": [hub]}))
            .await?;
    }
    let page = artist.get(&format!("/hubs/{hub}")).await?;
    let titles: Vec<&str> = page.body["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["title"].as_str())
        .collect();
    assert_eq!(titles, ["Open call"]);
    let last = manager.delete(&format!("/hubs/{hub}/members/{}", manager.id())).await?;
    assert_eq!(last.status, StatusCode::CONFLICT, "a hub keeps a manager");
    assert_eq!(
        artist.delete(&format!("/hubs/{hub}/members/{}", artist.id())).await?.status,
        StatusCode::NO_CONTENT
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_and_countries_typed_before_codes_are_read_into_codes_and_still_found()
-> anyhow::Result<()> {
    let server = TestServer::start_with(|args| args.open_docs = Some(false)).await;
    let ana = ApiClient::signup(&server, "ana@hubs.example").await?;
    ApiClient::signup(&server, "ben@hubs.example").await?;
    let ana_id = ana.get("/me").await?.body["id"].as_str().unwrap_or_default().to_owned();
    let hub = ana
        .post(
            "/hubs",
            json!({"name": "Casa", "city": "Porto", "country": "PT", "time_zone": "UTC"}),
        )
        .await?;
    let hub_id = hub.body["id"].as_str().unwrap_or_default().to_owned();
    // What the profile form wrote before codes: free text, in whatever words and case.
    let data = server.data_dir.clone();
    let dir = server.stop().await;
    let store = hubring_tests::open_store_in(&data).await?;
    let typed = ["French", "português", "Elvish", "fr"].map(str::to_owned).to_vec();
    let changes = hubring_store::ProfileChanges {
        languages: Some(typed),
        country: Some("Portugal".into()),
        ..Default::default()
    };
    store.update_profile(&hubring_protocol::UserId(ana_id.clone()), changes).await?;
    let fields = hubring_store::HubFields { country: Some("Ireland".into()), ..Default::default() };
    store.update_hub(&hubring_protocol::HubId(hub_id.clone()), fields).await?;
    store.close().await;

    // Read into codes at start; a name that is no language stays as typed.
    let server = TestServer::start_in(&data, |args| args.open_docs = Some(false)).await;
    let ben = ApiClient::signin(&server, "ben@hubs.example").await?;
    let seen = ben.get(&format!("/people/{ana_id}")).await?;
    assert_eq!(seen.body["languages"], json!(["fr", "pt", "Elvish"]), "{seen:?}");
    assert_eq!(seen.body["country"], "PT");
    assert_eq!(ben.get(&format!("/hubs/{hub_id}")).await?.body["country"], "IE");
    // Found whatever the filter types: code, English name, native name, the old free text.
    for language in ["fr", "French", "français", "Portuguese", "pt", "Elvish"] {
        let page = ben.get(&format!("/people?language={language}")).await?;
        assert_eq!(page.body["total"], 1, "{language}: {page:?}");
    }
    for country in ["PT", "Portugal", "prt"] {
        let page = ben.get(&format!("/people?country={country}")).await?;
        assert_eq!(page.body["total"], 1, "{country}: {page:?}");
    }
    // New writes take names or codes and keep codes; what is neither is refused, with a code.
    let updated = ben
        .patch("/me/profile", json!({"languages": ["Irish", "en", "English"], "country": "UK"}))
        .await?;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["languages"], json!(["ga", "en"]));
    assert_eq!(updated.body["country"], "GB");
    let refused = ben.patch("/me/profile", json!({"languages": ["Klingon-ish"]})).await?;
    assert_eq!(refused.body["error"]["field_codes"]["languages"]["code"], "not_language");
    let refused = ben.patch("/me/profile", json!({"country": "Atlantis"})).await?;
    assert_eq!(refused.body["error"]["field_codes"]["country"]["code"], "not_country");
    server.stop().await;
    drop(dir);
    Ok(())
}
