//! Profiles, the people directory (the partner finder) and hubs.
//!
//! The directory is for signed-in people. A hidden profile is listed to nobody and opened only
//! by its owner and admins; an email address is shown only where its owner chose to show it.

use hubring_protocol::api::{
    HubCreate, HubCreated, HubMemberView, HubRole, HubSummary, HubUpdate, HubView,
    NotificationKind, NotificationSubject, OpenTo, PeoplePage, PersonRef, PersonView, Profile,
    ProfileUpdate, ProfileVisibility, ProjectSummary,
};
use hubring_protocol::{HubId, Problem, UserId};
use hubring_store::{HubFields, HubRecord, PeopleQuery, ProfileChanges, ProfileRecord, UserRecord};

use crate::access::{Standing, effective_role};
use crate::codes;
use crate::secret::new_id;
use crate::validate::Checks;
use crate::{Caller, Workspace, WorkspaceError};

/// Most results on one page of the directory.
pub const MAX_PER_PAGE: u32 = 100;

/// A directory search as asked over HTTP.
#[derive(Debug, Clone, Default)]
pub struct PeopleSearch {
    pub q: Option<String>,
    pub skill: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub hub: Option<HubId>,
    pub language: Option<String>,
    pub open_to: Option<OpenTo>,
    /// From 1.
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn hub_summary(hub: &HubRecord) -> HubSummary {
    HubSummary {
        id: hub.id.clone(),
        name: hub.name.clone(),
        city: hub.city.clone(),
        country: hub.country.clone(),
    }
}

/// A country as its ISO 3166-1 alpha-2 code, from a code or a name; empty where allowed.
fn country(checks: &mut Checks, value: &str, required: bool) -> String {
    let typed = checks.text("country", value, usize::from(required), 100);
    if typed.is_empty() {
        return typed;
    }
    codes::country_code(&typed).unwrap_or_else(|| {
        checks.fail("country", "not_country", "must be a country (its name or ISO code)");
        typed
    })
}

/// Languages as ISO 639 codes, from codes or names, each once.
fn languages(checks: &mut Checks, items: &[String]) -> Vec<String> {
    let typed = labels(checks, "languages", items);
    let mut out: Vec<String> = Vec::with_capacity(typed.len());
    for item in typed {
        match codes::language_code(&item) {
            Some(code) if !out.contains(&code) => out.push(code),
            Some(_) => {}
            None => checks.fail_with(
                "languages",
                Problem::new("not_language"),
                format!("{item} is not a language (give its name or ISO 639 code)"),
            ),
        }
    }
    out
}

/// Checks a list of short labels (skills, languages...): at most 50, each 1 to 60 characters.
fn labels(checks: &mut Checks, field: &str, items: &[String]) -> Vec<String> {
    if items.len() > 50 {
        checks.fail_with(field, Problem::new("too_many").with("max", 50), "at most 50 entries");
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let item = checks.text(field, item, 1, 60);
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

impl Workspace {
    /// How `viewer` sees `person`; `None` when they may not see them at all.
    fn person_view(
        &self,
        viewer: &Caller,
        person: ProfileRecord,
        hubs: &[HubRecord],
    ) -> Option<PersonView> {
        let own = viewer.user_id() == Some(&person.id);
        let privileged = own || viewer.is_admin();
        if person.profile_visibility == ProfileVisibility::Hidden && !privileged {
            return None;
        }
        Some(PersonView {
            email: (person.show_email || privileged).then_some(person.email),
            id: person.id,
            display_name: person.display_name,
            city: person.city,
            country: person.country,
            languages: person.languages,
            skills: person.skills,
            disciplines: person.disciplines,
            bio: person.bio,
            open_to: person.open_to,
            hubs: hubs.iter().map(hub_summary).collect(),
        })
    }

    pub async fn my_profile(&self, caller: &Caller) -> Result<Profile, WorkspaceError> {
        let user = caller.signed_in()?;
        let p = self.store.profile(&user.id).await?.ok_or(WorkspaceError::NotFound("account"))?;
        Ok(Profile {
            display_name: p.display_name,
            city: p.city,
            country: p.country,
            languages: p.languages,
            skills: p.skills,
            disciplines: p.disciplines,
            bio: p.bio,
            open_to: p.open_to,
            profile_visibility: p.profile_visibility,
            show_email: p.show_email,
        })
    }

    pub async fn update_profile(
        &self,
        caller: &Caller,
        req: ProfileUpdate,
    ) -> Result<Profile, WorkspaceError> {
        let user = caller.signed_in()?;
        let mut checks = Checks::default();
        let changes = ProfileChanges {
            display_name: req.display_name.map(|v| checks.text("display_name", &v, 1, 100)),
            city: req.city.map(|v| checks.text("city", &v, 0, 100)),
            country: req.country.map(|v| country(&mut checks, &v, false)),
            languages: req.languages.map(|v| languages(&mut checks, &v)),
            skills: req.skills.map(|v| labels(&mut checks, "skills", &v)),
            disciplines: req.disciplines.map(|v| labels(&mut checks, "disciplines", &v)),
            bio: req.bio.map(|v| checks.text("bio", &v, 0, 2000)),
            open_to: req.open_to.map(|mut v| {
                v.sort();
                v.dedup();
                v
            }),
            profile_visibility: req.profile_visibility,
            show_email: req.show_email,
            language: req.language.map(|v| email_language(&mut checks, v)),
        };
        checks.done()?;
        self.store.update_profile(&user.id, changes).await?;
        self.my_profile(caller).await
    }

    /// One page of the directory.
    pub async fn search_people(
        &self,
        caller: &Caller,
        search: PeopleSearch,
    ) -> Result<PeoplePage, WorkspaceError> {
        caller.signed_in()?;
        let mut checks = Checks::default();
        let page = search.page.unwrap_or(1);
        let per_page = search.per_page.unwrap_or(20);
        if page == 0 {
            checks.fail_with("page", Problem::new("at_least").with("min", 1), "counts from 1");
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            checks.fail_with(
                "per_page",
                Problem::new("out_of_range").with("min", 1).with("max", MAX_PER_PAGE as u64),
                format!("must be 1 to {MAX_PER_PAGE}"),
            );
        }
        if let Some(q) = &search.q {
            checks.text("q", q, 0, 200);
        }
        checks.done()?;
        let trimmed = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let query = PeopleQuery {
            text: trimmed(search.q),
            skill: trimmed(search.skill),
            city: trimmed(search.city),
            // A filter by name or code finds the codes profiles hold (and, failing that, what
            // someone typed before codes, as it was typed).
            country: trimmed(search.country).map(|c| codes::country_code(&c).unwrap_or(c)),
            hub: search.hub,
            language: trimmed(search.language).map(|l| codes::language_code(&l).unwrap_or(l)),
            open_to: search.open_to,
            offset: (page - 1).saturating_mul(per_page),
            limit: per_page,
        };
        let (people, total) = self.store.search_people(&query).await?;
        let ids: Vec<UserId> = people.iter().map(|p| p.id.clone()).collect();
        let mut hubs = self.store.hubs_of_many(&ids).await?;
        let mut items = Vec::with_capacity(people.len());
        for person in people {
            let theirs = hubs.remove(&person.id).unwrap_or_default();
            items.extend(self.person_view(caller, person, &theirs));
        }
        Ok(PeoplePage { items, total, page, per_page })
    }

    /// One person's profile, as the caller may see it.
    pub async fn person(&self, caller: &Caller, id: &UserId) -> Result<PersonView, WorkspaceError> {
        caller.signed_in()?;
        let person = self.store.profile(id).await?.ok_or(WorkspaceError::NotFound("person"))?;
        let hubs = self.store.hubs_of(id).await?;
        self.person_view(caller, person, &hubs).ok_or(WorkspaceError::NotFound("person"))
    }

    /// The hubs the caller belongs to (not those they only asked to join).
    pub async fn my_hubs(&self, caller: &Caller) -> Result<Vec<HubSummary>, WorkspaceError> {
        let user = caller.signed_in()?;
        Ok(self.store.hubs_of(&user.id).await?.iter().map(hub_summary).collect())
    }

    pub async fn create_hub(
        &self,
        caller: &Caller,
        req: HubCreate,
    ) -> Result<HubCreated, WorkspaceError> {
        let user = caller.signed_in()?;
        let mut checks = Checks::default();
        let fields = HubFields {
            name: Some(checks.text("name", &req.name, 1, 200)),
            city: Some(checks.text("city", &req.city, 1, 100)),
            country: Some(country(&mut checks, &req.country, true)),
            time_zone: Some(time_zone(&mut checks, &req.time_zone)),
            description: Some(checks.text("description", &req.description, 0, 5000)),
            disciplines: Some(labels(&mut checks, "disciplines", &req.disciplines)),
            facilities: Some(labels(&mut checks, "facilities", &req.facilities)),
            website: Some(website(&mut checks, &req.website)),
        };
        checks.done()?;
        let id = HubId(new_id());
        self.store.create_hub(&id, &user.id, fields).await?;
        Ok(HubCreated { id })
    }

    pub async fn hubs(&self, caller: &Caller) -> Result<Vec<HubSummary>, WorkspaceError> {
        caller.signed_in()?;
        Ok(self.store.hubs().await?.iter().map(hub_summary).collect())
    }

    /// A hub page: members (requests only to managers) and the partner projects the caller may
    /// see.
    pub async fn hub(&self, caller: &Caller, id: &HubId) -> Result<HubView, WorkspaceError> {
        let user = caller.signed_in()?;
        let hub = self.store.hub(id).await?.ok_or(WorkspaceError::NotFound("hub"))?;
        let my_role = self.store.hub_role(id, &user.id).await?;
        let manager = my_role == Some(HubRole::Manager) || caller.is_admin();
        let members = self
            .store
            .hub_members(id)
            .await?
            .into_iter()
            .filter(|(_, _, role)| manager || *role != HubRole::Requested)
            .map(|(user_id, display_name, role)| HubMemberView { user_id, display_name, role })
            .collect();
        let mut projects = Vec::new();
        for p in self.store.hub_projects(id).await? {
            let member = self.store.project_role(&p.id, &user.id).await?;
            let standing = Standing { member, signed_in: true, admin: caller.is_admin() };
            if let Some(my_role) = effective_role(p.visibility, standing) {
                projects.push(ProjectSummary {
                    id: p.id,
                    title: p.title,
                    visibility: p.visibility,
                    archived: p.archived,
                    my_role,
                    updated_at: p.updated_at,
                });
            }
        }
        Ok(HubView {
            id: hub.id,
            name: hub.name,
            city: hub.city,
            country: hub.country,
            time_zone: hub.time_zone,
            description: hub.description,
            disciplines: hub.disciplines,
            facilities: hub.facilities,
            website: hub.website,
            members,
            projects,
            my_role,
            created_at: hub.created_at,
        })
    }

    async fn require_manager(&self, caller: &Caller, id: &HubId) -> Result<(), WorkspaceError> {
        let user = caller.signed_in()?;
        self.store.hub(id).await?.ok_or(WorkspaceError::NotFound("hub"))?;
        if caller.is_admin() || self.store.hub_role(id, &user.id).await? == Some(HubRole::Manager) {
            Ok(())
        } else {
            Err(WorkspaceError::Forbidden("only the hub's managers may do this"))
        }
    }

    pub async fn update_hub(
        &self,
        caller: &Caller,
        id: &HubId,
        req: HubUpdate,
    ) -> Result<(), WorkspaceError> {
        self.require_manager(caller, id).await?;
        let mut checks = Checks::default();
        let fields = HubFields {
            name: req.name.map(|v| checks.text("name", &v, 1, 200)),
            city: req.city.map(|v| checks.text("city", &v, 1, 100)),
            country: req.country.map(|v| country(&mut checks, &v, true)),
            time_zone: req.time_zone.map(|v| time_zone(&mut checks, &v)),
            description: req.description.map(|v| checks.text("description", &v, 0, 5000)),
            disciplines: req.disciplines.map(|v| labels(&mut checks, "disciplines", &v)),
            facilities: req.facilities.map(|v| labels(&mut checks, "facilities", &v)),
            website: req.website.map(|v| website(&mut checks, &v)),
        };
        checks.done()?;
        Ok(self.store.update_hub(id, fields).await?)
    }

    /// Asks to join a hub; a manager approves.
    pub async fn request_to_join(
        &self,
        caller: &Caller,
        id: &HubId,
    ) -> Result<HubRole, WorkspaceError> {
        let user = caller.signed_in()?;
        self.store.hub(id).await?.ok_or(WorkspaceError::NotFound("hub"))?;
        if let Some(role) = self.store.hub_role(id, &user.id).await? {
            return Ok(role);
        }
        self.store.set_hub_role(id, &user.id, HubRole::Requested).await?;
        self.tell_managers(id, user).await?;
        Ok(HubRole::Requested)
    }

    /// Tells a hub's managers that `user` asks to join.
    async fn tell_managers(&self, id: &HubId, user: &UserRecord) -> Result<(), WorkspaceError> {
        let Some(hub) = self.store.hub(id).await? else { return Ok(()) };
        for (manager, _, role) in self.store.hub_members(id).await? {
            if role != HubRole::Manager {
                continue;
            }
            let Some(to) = self.store.user_by_id(&manager).await? else { continue };
            let subject = NotificationSubject {
                by: Some(PersonRef {
                    id: user.id.clone(),
                    display_name: user.display_name.clone(),
                }),
                hub_id: Some(hub.id.clone()),
                hub_name: Some(hub.name.clone()),
                ..NotificationSubject::default()
            };
            let path = format!("/hubs/{}", hub.id.as_str());
            self.notify(&to, NotificationKind::JoinRequest, subject, &path).await?;
        }
        Ok(())
    }

    /// A manager approves a request (`member`) or makes or unmakes a manager.
    pub async fn set_hub_role(
        &self,
        caller: &Caller,
        id: &HubId,
        user: &UserId,
        role: HubRole,
    ) -> Result<(), WorkspaceError> {
        self.require_manager(caller, id).await?;
        if role == HubRole::Requested {
            return Err(WorkspaceError::invalid(
                "role",
                "not_hub_role",
                "must be member or manager",
            ));
        }
        let current =
            self.store.hub_role(id, user).await?.ok_or(WorkspaceError::NotFound("member"))?;
        if current == HubRole::Manager && role != HubRole::Manager {
            self.keep_a_manager(id, user).await?;
        }
        Ok(self.store.set_hub_role(id, user, role).await?)
    }

    /// Removes a member or declines a request; anyone may leave. The last manager stays.
    pub async fn remove_hub_member(
        &self,
        caller: &Caller,
        id: &HubId,
        user: &UserId,
    ) -> Result<(), WorkspaceError> {
        if caller.user_id() != Some(user) {
            self.require_manager(caller, id).await?;
        }
        let current =
            self.store.hub_role(id, user).await?.ok_or(WorkspaceError::NotFound("member"))?;
        if current == HubRole::Manager {
            self.keep_a_manager(id, user).await?;
        }
        self.store.remove_hub_member(id, user).await?;
        Ok(())
    }

    async fn keep_a_manager(&self, id: &HubId, leaving: &UserId) -> Result<(), WorkspaceError> {
        let others = self
            .store
            .hub_members(id)
            .await?
            .into_iter()
            .filter(|(u, _, r)| *r == HubRole::Manager && u != leaving)
            .count();
        if others == 0 {
            return Err(WorkspaceError::Conflict(
                "last_manager",
                "a hub keeps at least one manager",
            ));
        }
        Ok(())
    }
}

/// An IANA zone name (`Europe/Lisbon`, `UTC`), checked against the time zone database and
/// kept as the database spells it.
pub(crate) fn time_zone(checks: &mut Checks, value: &str) -> String {
    let zone = checks.text("time_zone", value, 1, 64);
    if zone.is_empty() {
        return zone;
    }
    match jiff::tz::db().get(&zone) {
        Ok(tz) => tz.iana_name().map_or(zone, str::to_owned),
        Err(_) => {
            checks.fail(
                "time_zone",
                "not_time_zone",
                "must be an IANA time zone such as Europe/Lisbon",
            );
            zone
        }
    }
}

/// An empty string or an http(s) URL.
fn website(checks: &mut Checks, value: &str) -> String {
    let url = checks.text("website", value, 0, 500);
    let web = url.starts_with("https://") || url.starts_with("http://");
    if !url.is_empty() && !web {
        checks.fail("website", "not_web_address", "must start with https:// or http://");
    }
    url
}

/// A language emails may be written in (`en`, `fr`, `es`, `pt`), or a refusal.
pub(crate) fn email_language(checks: &mut Checks, code: String) -> String {
    if !crate::mail::Lang::known(&code) {
        checks.fail("language", "unknown_language", "must be en, fr, es or pt");
    }
    code
}
