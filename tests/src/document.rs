//! BlockNote documents for the tests: paragraphs written as the editor writes them
//! (`blockGroup > blockContainer > paragraph > text` in the `document-store` fragment), and
//! read back.

use yrs::types::xml::{XmlElementPrelim, XmlFragment, XmlOut, XmlTextPrelim};
use yrs::{ReadTxn, Text, TransactionMut, WriteTxn, Xml, XmlElementRef};

/// The fragment BlockNote edits.
pub const FRAGMENT: &str = "document-store";

/// Replaces the document's text with one paragraph per string.
pub fn set_paragraphs(txn: &mut TransactionMut<'_>, texts: &[&str]) {
    let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
    let n = fragment.len(txn);
    if n > 0 {
        fragment.remove_range(txn, 0, n);
    }
    let group: XmlElementRef = fragment.push_back(txn, XmlElementPrelim::empty("blockGroup"));
    for (i, text) in texts.iter().enumerate() {
        let container: XmlElementRef =
            group.push_back(txn, XmlElementPrelim::empty("blockContainer"));
        container.insert_attribute(txn, "id", format!("block-{i}"));
        let paragraph: XmlElementRef =
            container.push_back(txn, XmlElementPrelim::empty("paragraph"));
        if !text.is_empty() {
            paragraph.push_back(txn, XmlTextPrelim::new(*text));
        }
    }
}

/// The text of each paragraph.
pub fn paragraphs<T: ReadTxn>(txn: &T) -> Vec<String> {
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else { return Vec::new() };
    let mut out = Vec::new();
    let Some(XmlOut::Element(group)) = fragment.get(txn, 0) else { return out };
    for container in group.children(txn) {
        let XmlOut::Element(container) = container else { continue };
        let Some(XmlOut::Element(paragraph)) = container.get(txn, 0) else { continue };
        let text = paragraph
            .children(txn)
            .filter_map(|c| c.into_xml_text())
            .map(|t| {
                t.diff(txn, yrs::types::text::YChange::identity)
                    .into_iter()
                    .filter_map(|d| match d.insert {
                        yrs::Out::Any(yrs::Any::String(s)) => Some(s.to_string()),
                        _ => None,
                    })
                    .collect::<String>()
            })
            .collect();
        out.push(text);
    }
    out
}
