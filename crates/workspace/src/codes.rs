//! Languages and countries as codes: ISO 639 for languages (`fr`, `pt`; three letters for a
//! language with no two-letter code), ISO 3166-1 alpha-2 for countries (`PT`, `IE`). Profiles
//! and hubs store codes, so a filter finds everyone whatever they typed, and the web app shows
//! each in the viewer's language. What people typed before codes (free text: "French",
//! "français", "fr"; "Portugal", "Republic of Ireland") is read into codes here, by `isolang`
//! and `celes` (codes, English names, native names, common aliases).

use isolang::Language;

/// The ISO 639 code of a language given by code, English name or native name (any case);
/// `None` if it is none of these.
pub fn language_code(input: &str) -> Option<String> {
    let typed = input.trim();
    if typed.is_empty() {
        return None;
    }
    let lower = typed.to_lowercase();
    let language = match lower.len() {
        2 => Language::from_639_1(&lower),
        3 => Language::from_639_3(&lower),
        _ => None,
    }
    .or_else(|| Language::from_name_lowercase(&lower))
    .or_else(|| Language::from_autonym(typed))
    .or_else(|| {
        let lower = lower.clone();
        Language::match_autonyms(move |name| name.to_lowercase() == lower).next()
    })?;
    Some(language.to_639_1().unwrap_or_else(|| language.to_639_3()).to_owned())
}

/// The ISO 3166-1 alpha-2 code of a country given by code (alpha-2, alpha-3), name or common
/// alias (any case, spaces and punctuation ignored); `None` if it is none of these.
pub fn country_code(input: &str) -> Option<String> {
    let squeezed: String =
        input.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    if squeezed.is_empty() {
        return None;
    }
    // "UK" is what most people type; ISO reserves it for the code GB.
    if squeezed == "uk" {
        return Some("GB".to_owned());
    }
    let country = squeezed
        .parse::<celes::Country>()
        .or_else(|_| celes::Country::from_alias(&squeezed))
        .or_else(|_| celes::Country::from_name(&squeezed))
        .or_else(|_| celes::Country::from_name(format!("the{squeezed}")))
        .ok()?;
    Some(country.alpha2.to_owned())
}

impl crate::Workspace {
    /// Reads the languages and countries written as free text before codes into codes, where
    /// they name one; what names none stays as it was typed (shown as typed, found by a filter
    /// that types it again), so nothing anyone wrote is lost. Run at start; a second run
    /// changes nothing. Returns how many profiles and hubs it changed.
    pub async fn read_places_into_codes(&self) -> Result<(usize, usize), crate::WorkspaceError> {
        let mut people = 0;
        for (id, languages, country) in self.store.places_of_people().await? {
            let mut coded: Vec<String> = Vec::with_capacity(languages.len());
            for typed in &languages {
                let code = language_code(typed).unwrap_or_else(|| typed.clone());
                if !coded.contains(&code) {
                    coded.push(code);
                }
            }
            let country_coded = country_code(&country).unwrap_or_else(|| country.clone());
            if coded != languages || country_coded != country {
                let changes = hubring_store::ProfileChanges {
                    languages: Some(coded),
                    country: Some(country_coded),
                    ..Default::default()
                };
                self.store.update_profile(&id, changes).await?;
                people += 1;
            }
        }
        let mut hubs = 0;
        for (id, country) in self.store.hub_countries().await? {
            if let Some(code) = country_code(&country).filter(|code| *code != country) {
                let fields = hubring_store::HubFields { country: Some(code), ..Default::default() };
                self.store.update_hub(&id, fields).await?;
                hubs += 1;
            }
        }
        Ok((people, hubs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_read_from_what_people_typed() {
        for (typed, code) in [
            ("fr", "fr"),
            ("FR", "fr"),
            ("French", "fr"),
            ("french", "fr"),
            ("français", "fr"),
            ("Français", "fr"),
            ("Portuguese", "pt"),
            ("português", "pt"),
            ("Irish", "ga"),
            ("gle", "ga"),
            ("Spanish", "es"),
            ("español", "es"),
            (" English ", "en"),
        ] {
            assert_eq!(language_code(typed).as_deref(), Some(code), "{typed}");
        }
        for typed in ["", "  ", "Elvish", "zz", "fren"] {
            assert_eq!(language_code(typed), None, "{typed}");
        }
    }

    #[test]
    fn countries_are_read_from_what_people_typed() {
        for (typed, code) in [
            ("PT", "PT"),
            ("pt", "PT"),
            ("PRT", "PT"),
            ("Portugal", "PT"),
            ("France", "FR"),
            ("Spain", "ES"),
            ("Ireland", "IE"),
            ("United Kingdom", "GB"),
            ("UK", "GB"),
        ] {
            assert_eq!(country_code(typed).as_deref(), Some(code), "{typed}");
        }
        for typed in ["", "Atlantis", "ZZ"] {
            assert_eq!(country_code(typed), None, "{typed}");
        }
    }
}
