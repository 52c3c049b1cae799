//! Templates: built-in document templates in the four languages (an EU cooperation project
//! proposal, peer-learning and coaching session notes, a hub-exchange report), and templates
//! people save from a document or board for themselves or for a hub they manage.
//!
//! A built-in template is a document tree written here; its id names its language
//! (`builtin:proposal:fr`). A saved template is the item's content at the moment it was saved.

use hubring_doc::tree::{Align, Block, Cell, Document, ListItem, ListKind, Span};
use hubring_protocol::api::{HubRole, ItemKind, TemplateCreate, TemplateScope, TemplateView};
use hubring_store::{TemplateMeta, now_ms};

use crate::access::Action;
use crate::secret::new_id;
use crate::validate::Checks;
use crate::{Caller, Workspace, WorkspaceError};

/// What a new item starts with.
#[derive(Debug, Clone)]
pub enum TemplateContent {
    /// A built-in template's document.
    Tree(Document),
    /// A saved template: a state whose content is copied in.
    State(Vec<u8>),
}

const LANGS: [&str; 4] = ["en", "fr", "es", "pt"];
const BUILTINS: [&str; 4] = ["proposal", "peer-learning", "coaching", "exchange"];

fn lang_index(lang: &str) -> usize {
    LANGS.iter().position(|l| *l == lang).unwrap_or(0)
}

fn h(level: u8, text: &str) -> Block {
    Block::Heading { level, align: Align::Left, content: vec![Span::plain(text)] }
}

fn p(text: &str) -> Block {
    Block::Paragraph { align: Align::Left, content: vec![Span::plain(text)] }
}

fn items(kind: ListKind, texts: &[&str]) -> Block {
    Block::List {
        kind,
        items: texts
            .iter()
            .map(|t| ListItem { checked: false, content: vec![Span::plain(*t)], children: vec![] })
            .collect(),
    }
}

fn table(rows: &[&[&str]]) -> Block {
    Block::Table {
        header_rows: 1,
        rows: rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| Cell { content: vec![Span::plain(*c)], align: Align::Left })
                    .collect()
            })
            .collect(),
    }
}

/// A built-in template's title, description and document, in `lang`.
fn builtin(name: &str, lang: &str) -> Option<(String, String, Document)> {
    let l = lang_index(lang);
    let pick = |v: [&'static str; 4]| v[l];
    let blocks = match name {
        "proposal" => vec![
            h(
                1,
                pick([
                    "Cooperation project proposal",
                    "Proposition de projet de coopération",
                    "Propuesta de proyecto de cooperación",
                    "Proposta de projeto de cooperação",
                ]),
            ),
            p(pick([
                "Project title, acronym, programme and call.",
                "Titre du projet, acronyme, programme et appel.",
                "Título del proyecto, acrónimo, programa y convocatoria.",
                "Título do projeto, acrónimo, programa e concurso.",
            ])),
            h(2, pick(["1. Summary", "1. Résumé", "1. Resumen", "1. Resumo"])),
            p(pick([
                "What the project does, for whom, with which partners, in a few sentences.",
                "Ce que fait le projet, pour qui, avec quels partenaires, en quelques phrases.",
                "Qué hace el proyecto, para quién y con qué socios, en pocas frases.",
                "O que o projeto faz, para quem e com que parceiros, em poucas frases.",
            ])),
            h(2, pick(["2. Relevance", "2. Pertinence", "2. Pertinencia", "2. Relevância"])),
            p(pick([
                "The needs addressed and how the project meets the call's priorities.",
                "Les besoins visés et la réponse du projet aux priorités de l’appel.",
                "Las necesidades abordadas y cómo responde el proyecto a las prioridades de la convocatoria.",
                "As necessidades abordadas e como o projeto responde às prioridades do concurso.",
            ])),
            h(
                2,
                pick([
                    "3. Quality of content and activities",
                    "3. Qualité du contenu et des activités",
                    "3. Calidad del contenido y de las actividades",
                    "3. Qualidade do conteúdo e das atividades",
                ]),
            ),
            h(3, pick(["Work plan", "Plan de travail", "Plan de trabajo", "Plano de trabalho"])),
            table(&[
                &[
                    pick([
                        "Work package",
                        "Lot de travail",
                        "Paquete de trabajo",
                        "Pacote de trabalho",
                    ]),
                    pick(["Activities", "Activités", "Actividades", "Atividades"]),
                    pick([
                        "Lead partner",
                        "Partenaire responsable",
                        "Socio responsable",
                        "Parceiro responsável",
                    ]),
                    pick(["Months", "Mois", "Meses", "Meses"]),
                ],
                &["WP1", "", "", ""],
                &["WP2", "", "", ""],
                &["WP3", "", "", ""],
            ]),
            h(
                2,
                pick([
                    "4. Partnership and project management",
                    "4. Partenariat et gestion du projet",
                    "4. Asociación y gestión del proyecto",
                    "4. Parceria e gestão do projeto",
                ]),
            ),
            p(pick([
                "Each partner hub's role, how decisions are taken, how risks are handled.",
                "Le rôle de chaque lieu partenaire, la prise de décision, la gestion des risques.",
                "El papel de cada espacio socio, cómo se decide y cómo se gestionan los riesgos.",
                "O papel de cada espaço parceiro, como se decide e como se gerem os riscos.",
            ])),
            h(
                2,
                pick([
                    "5. Communication and dissemination",
                    "5. Communication et diffusion",
                    "5. Comunicación y difusión",
                    "5. Comunicação e disseminação",
                ]),
            ),
            p(pick([
                "Audiences, channels and what will be shared, when.",
                "Publics, canaux, et ce qui sera partagé, quand.",
                "Públicos, canales y qué se compartirá y cuándo.",
                "Públicos, canais e o que será partilhado, e quando.",
            ])),
            h(
                2,
                pick([
                    "6. Impact and sustainability",
                    "6. Impact et pérennité",
                    "6. Impacto y sostenibilidad",
                    "6. Impacto e sustentabilidade",
                ]),
            ),
            p(pick([
                "Expected results, how they are measured, what lasts after the project.",
                "Résultats attendus, leur mesure, ce qui demeure après le projet.",
                "Resultados esperados, cómo se miden y qué perdura tras el proyecto.",
                "Resultados esperados, como se medem e o que perdura depois do projeto.",
            ])),
            h(2, pick(["7. Budget", "7. Budget", "7. Presupuesto", "7. Orçamento"])),
            table(&[
                &[
                    pick(["Item", "Poste", "Partida", "Rubrica"]),
                    pick(["Partner", "Partenaire", "Socio", "Parceiro"]),
                    pick(["Amount (€)", "Montant (€)", "Importe (€)", "Montante (€)"]),
                ],
                &[pick(["Staff", "Personnel", "Personal", "Pessoal"]), "", ""],
                &[
                    pick([
                        "Travel and mobility",
                        "Déplacements et mobilité",
                        "Viajes y movilidad",
                        "Viagens e mobilidade",
                    ]),
                    "",
                    "",
                ],
                &[pick(["Total", "Total", "Total", "Total"]), "", ""],
            ]),
        ],
        "peer-learning" => vec![
            h(
                1,
                pick([
                    "Peer-learning session notes",
                    "Notes de séance d’apprentissage entre pairs",
                    "Notas de la sesión de aprendizaje entre pares",
                    "Notas da sessão de aprendizagem entre pares",
                ]),
            ),
            p(pick([
                "Date, place or room, facilitator.",
                "Date, lieu ou salle, animation.",
                "Fecha, lugar o sala, facilitación.",
                "Data, local ou sala, facilitação.",
            ])),
            h(2, pick(["Participants", "Participants", "Participantes", "Participantes"])),
            items(
                ListKind::Bullet,
                &[pick([
                    "Name, hub, city",
                    "Nom, lieu, ville",
                    "Nombre, espacio, ciudad",
                    "Nome, espaço, cidade",
                ])],
            ),
            h(2, pick(["Topic", "Thème", "Tema", "Tema"])),
            h(
                2,
                pick([
                    "What each hub shared",
                    "Ce que chaque lieu a partagé",
                    "Lo que compartió cada espacio",
                    "O que cada espaço partilhou",
                ]),
            ),
            h(
                2,
                pick([
                    "What we learned",
                    "Ce que nous avons appris",
                    "Lo que aprendimos",
                    "O que aprendemos",
                ]),
            ),
            h(2, pick(["Actions", "Actions", "Acciones", "Ações"])),
            items(
                ListKind::Check,
                &[pick([
                    "Who does what, by when",
                    "Qui fait quoi, pour quand",
                    "Quién hace qué y para cuándo",
                    "Quem faz o quê e até quando",
                ])],
            ),
        ],
        "coaching" => vec![
            h(
                1,
                pick([
                    "Coaching session notes",
                    "Notes de séance de coaching",
                    "Notas de la sesión de coaching",
                    "Notas da sessão de coaching",
                ]),
            ),
            p(pick([
                "Date, coach, coachee.",
                "Date, coach, personne accompagnée.",
                "Fecha, coach, persona acompañada.",
                "Data, coach, pessoa acompanhada.",
            ])),
            h(2, pick(["Goals", "Objectifs", "Objetivos", "Objetivos"])),
            h(2, pick(["Discussion", "Échanges", "Conversación", "Conversa"])),
            h(
                2,
                pick([
                    "Agreed actions",
                    "Actions convenues",
                    "Acciones acordadas",
                    "Ações acordadas",
                ]),
            ),
            items(
                ListKind::Check,
                &[pick([
                    "Action, by when",
                    "Action, pour quand",
                    "Acción y plazo",
                    "Ação e prazo",
                ])],
            ),
            h(2, pick(["Next session", "Prochaine séance", "Próxima sesión", "Próxima sessão"])),
        ],
        "exchange" => vec![
            h(
                1,
                pick([
                    "Hub exchange report",
                    "Rapport d’échange entre lieux",
                    "Informe de intercambio entre espacios",
                    "Relatório de intercâmbio entre espaços",
                ]),
            ),
            table(&[
                &[
                    pick(["Host hub", "Lieu d’accueil", "Espacio anfitrión", "Espaço anfitrião"]),
                    pick(["Visiting from", "Venu de", "Procedente de", "Vindo de"]),
                    pick(["Dates", "Dates", "Fechas", "Datas"]),
                    pick(["Format", "Format", "Formato", "Formato"]),
                ],
                &[
                    "",
                    "",
                    "",
                    pick([
                        "Shadowing, residency or hot desk",
                        "Observation, résidence ou poste nomade",
                        "Acompañamiento, residencia o puesto flexible",
                        "Acompanhamento, residência ou posto partilhado",
                    ]),
                ],
            ]),
            h(2, pick(["Objectives", "Objectifs", "Objetivos", "Objetivos"])),
            h(2, pick(["What happened", "Déroulement", "Qué se hizo", "O que aconteceu"])),
            h(
                2,
                pick([
                    "What we learned",
                    "Ce que nous avons appris",
                    "Lo que aprendimos",
                    "O que aprendemos",
                ]),
            ),
            h(2, pick(["Follow-up", "Suites", "Seguimiento", "Seguimento"])),
            items(
                ListKind::Check,
                &[pick(["Next step", "Prochaine étape", "Siguiente paso", "Próximo passo"])],
            ),
        ],
        _ => return None,
    };
    let title = match &blocks[0] {
        Block::Heading { content, .. } => hubring_doc::tree::text_of(content),
        _ => String::new(),
    };
    let description = match &blocks.get(1) {
        Some(Block::Paragraph { content, .. }) => hubring_doc::tree::text_of(content),
        _ => String::new(),
    };
    Some((title, description, Document { blocks }))
}

fn invalid_template(message: &str) -> WorkspaceError {
    WorkspaceError::Invalid(crate::FieldErrors::one(
        "template_id",
        hubring_protocol::Problem::new("kind"),
        message,
    ))
}

/// A built-in template's document (`peer-learning`, `coaching`...) in `lang`.
pub(crate) fn builtin_document(name: &str, lang: &str) -> Option<Document> {
    builtin(name, lang).map(|(_, _, doc)| doc)
}

fn builtin_view(name: &str, lang: &str) -> Option<TemplateView> {
    let (title, description, _) = builtin(name, lang)?;
    Some(TemplateView {
        id: format!("builtin:{name}:{lang}"),
        kind: ItemKind::Document,
        title,
        description,
        scope: TemplateScope::Builtin,
        hub_id: None,
        created_at: None,
    })
}

fn view(meta: TemplateMeta) -> TemplateView {
    TemplateView {
        id: meta.id,
        kind: meta.kind,
        title: meta.title,
        description: meta.description,
        scope: if meta.hub_id.is_some() { TemplateScope::Hub } else { TemplateScope::Personal },
        hub_id: meta.hub_id,
        created_at: Some(meta.created_at),
    }
}

impl Workspace {
    /// The templates the caller may start an item from: the built-in ones in `lang`, then
    /// their own and their hubs', newest first; only those of `kind` when given.
    pub async fn templates(
        &self,
        caller: &Caller,
        kind: Option<ItemKind>,
        lang: &str,
    ) -> Result<Vec<TemplateView>, WorkspaceError> {
        let user = caller.signed_in()?;
        let lang = LANGS[lang_index(lang)];
        let mut out: Vec<TemplateView> =
            BUILTINS.iter().filter_map(|name| builtin_view(name, lang)).collect();
        out.extend(self.store.templates_for(&user.id).await?.into_iter().map(view));
        out.retain(|t| kind.is_none_or(|k| t.kind == k));
        Ok(out)
    }

    /// Checks a request to save an item as a template (the caller edits the item; a hub's
    /// template needs its manager), before the item's content is read.
    pub async fn check_template(
        &self,
        caller: &Caller,
        req: &TemplateCreate,
    ) -> Result<ItemKind, WorkspaceError> {
        let user = caller.signed_in()?;
        let access = self.content_access(caller, &req.item_id, Action::WriteDocument).await?;
        if let Some(hub) = &req.hub_id {
            let role = self.store.hub_role(hub, &user.id).await?;
            if role != Some(HubRole::Manager) {
                return Err(WorkspaceError::Forbidden(
                    "only a hub's managers save templates for it",
                ));
            }
        }
        let mut checks = Checks::default();
        checks.text("title", &req.title, 1, 200);
        checks.text("description", req.description.as_deref().unwrap_or(""), 0, 1000);
        checks.done()?;
        Ok(access.kind)
    }

    /// Saves `state` (the item's content now) as a template, after [`Self::check_template`].
    pub async fn save_template(
        &self,
        caller: &Caller,
        kind: ItemKind,
        req: TemplateCreate,
        state: Vec<u8>,
    ) -> Result<TemplateView, WorkspaceError> {
        let user = caller.signed_in()?;
        let meta = TemplateMeta {
            id: new_id(),
            kind,
            title: req.title.trim().to_owned(),
            description: req.description.unwrap_or_default().trim().to_owned(),
            owner_id: req.hub_id.is_none().then(|| user.id.clone()),
            hub_id: req.hub_id,
            created_by: Some(user.id.clone()),
            created_at: now_ms(),
        };
        self.store.put_template(meta.clone(), state).await?;
        Ok(view(meta))
    }

    /// A template's content, if the caller sees it and it makes items of `kind`.
    pub async fn template_content(
        &self,
        caller: &Caller,
        id: &str,
        kind: ItemKind,
    ) -> Result<TemplateContent, WorkspaceError> {
        let user = caller.signed_in()?;
        if let Some(rest) = id.strip_prefix("builtin:") {
            let (name, lang) = rest.split_once(':').unwrap_or((rest, "en"));
            return match builtin(name, lang) {
                Some((_, _, doc)) if kind == ItemKind::Document => Ok(TemplateContent::Tree(doc)),
                Some(_) => Err(invalid_template("a built-in template makes documents")),
                None => Err(WorkspaceError::NotFound("template")),
            };
        }
        let Some((meta, state)) = self.store.template(id).await? else {
            return Err(WorkspaceError::NotFound("template"));
        };
        if !self.sees_template(&user.id, &meta).await? {
            return Err(WorkspaceError::NotFound("template"));
        }
        if meta.kind != kind {
            let makes = if meta.kind == ItemKind::Board { "boards" } else { "documents" };
            return Err(invalid_template(&format!("this template makes {makes}")));
        }
        Ok(TemplateContent::State(state))
    }

    async fn sees_template(
        &self,
        user: &hubring_protocol::UserId,
        meta: &TemplateMeta,
    ) -> Result<bool, WorkspaceError> {
        if meta.owner_id.as_ref() == Some(user) {
            return Ok(true);
        }
        match &meta.hub_id {
            Some(hub) => Ok(matches!(
                self.store.hub_role(hub, user).await?,
                Some(HubRole::Manager | HubRole::Member)
            )),
            None => Ok(false),
        }
    }

    /// Deletes a template: its owner, or a manager of its hub.
    pub async fn delete_template(&self, caller: &Caller, id: &str) -> Result<(), WorkspaceError> {
        let user = caller.signed_in()?;
        let Some((meta, _)) = self.store.template(id).await? else {
            return Err(WorkspaceError::NotFound("template"));
        };
        if !self.sees_template(&user.id, &meta).await? {
            return Err(WorkspaceError::NotFound("template"));
        }
        let may = meta.owner_id.as_ref() == Some(&user.id)
            || match &meta.hub_id {
                Some(hub) => self.store.hub_role(hub, &user.id).await? == Some(HubRole::Manager),
                None => false,
            };
        if !may {
            return Err(WorkspaceError::Forbidden(
                "only its owner or a manager of its hub deletes a template",
            ));
        }
        self.store.delete_template(id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_exists_in_every_language() {
        for name in BUILTINS {
            let titles: Vec<String> = LANGS.iter().map(|l| builtin(name, l).unwrap().0).collect();
            assert!(titles.iter().all(|t| !t.is_empty()), "{name}: {titles:?}");
            // Each language has its own words (English is not left untranslated).
            for (i, t) in titles.iter().enumerate().skip(1) {
                assert_ne!(t, &titles[0], "{name} in {}", LANGS[i]);
            }
        }
        let (_, _, doc) = builtin("proposal", "fr").unwrap();
        assert_eq!(doc.blocks.iter().filter(|b| matches!(b, Block::Table { .. })).count(), 2);
    }
}
