//! Every citation a pack can produce is in the table beside it, and the words that table
//! quotes are in the article it cites, in the law's own text (`tests/data/law/`).

use amanat::policy::{Citation, JurisdictionPack};

const TJ_TABLE: &str = include_str!("../../src/policy/pack/tajikistan-2018.md");
const UZ_TABLE: &str = include_str!("../../src/policy/pack/uzbekistan-2019.md");
const TJ_TEXT: &str = include_str!("../data/law/tj-1537-2018.txt");
const UZ_TEXT: &str = include_str!("../data/law/uz-zru-547-2023.txt");

/// One row of a citation table.
struct Row {
    used_as: Vec<String>,
    article: String,
    secondary: bool,
    words: Vec<String>,
}

fn rows(table: &str) -> Vec<Row> {
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 4, "{line}");
            Row {
                used_as: cells[0]
                    .split(", ")
                    .map(|name| name.trim_matches('`').to_owned())
                    .collect(),
                article: cells[1].to_owned(),
                secondary: match cells[2] {
                    "yes" => true,
                    "no" => false,
                    other => panic!("secondary is yes or no, not {other}"),
                },
                words: cells[3]
                    .split('«')
                    .skip(1)
                    .map(|quote| quote.split('»').next().unwrap_or_default().to_owned())
                    .collect(),
            }
        })
        .collect()
}

/// Whitespace and the several apostrophes of Uzbek Latin, made one.
fn normal(text: &str) -> String {
    text.replace(['ʼ', 'ʻ', '‘', '’', '`'], "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The article numbers a citation names: `Art. 14.3, 20` is 14 and 20; `Art. 27-1` is 27-1.
fn articles(citation: &str) -> Vec<String> {
    let Some((_, list)) = citation.split_once("Art. ") else {
        return Vec::new();
    };
    list.split(", ")
        .map(|item| {
            item.chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The text of article `n` of the law, from its heading to the next one.
fn article_text(law: &str, n: &str) -> String {
    let tajik = law.contains("Моддаи 1.");
    let heading = |line: &str, n: &str| {
        if tajik {
            line.starts_with(&format!("Моддаи {n}."))
        } else {
            // The database prints Art. 27-1 as "271-modda".
            line.starts_with(&format!("{}-modda.", n.replace('-', "")))
        }
    };
    let any_heading = |line: &str| {
        if tajik {
            line.starts_with("Моддаи ")
        } else {
            line.split_once("-modda.")
                .is_some_and(|(number, _)| number.chars().all(|c| c.is_ascii_digit()))
        }
    };
    let mut lines = law.lines().skip_while(|line| !heading(line, n));
    let first = lines.next().unwrap_or_else(|| panic!("no article {n}"));
    let body: Vec<&str> = lines.take_while(|line| !any_heading(line)).collect();
    normal(&format!("{first}\n{}", body.join("\n")))
}

fn walk(pack: &JurisdictionPack, table: &str) {
    let rows = rows(table);
    let mut used = vec![false; rows.len()];
    for (place, citation) in pack.citations() {
        let Some(i) = rows
            .iter()
            .position(|row| row.used_as.contains(&place) && row.article == citation.article)
        else {
            panic!(
                "{}: {place} cites {citation:?}, which its table lacks",
                pack.id
            );
        };
        used[i] = true;
        assert_eq!(
            rows[i].secondary, citation.secondary,
            "{place}: {citation:?}"
        );
        assert!(!citation.note.is_empty(), "{place}");
    }
    for (row, used) in rows.iter().zip(used) {
        assert!(
            used,
            "{}: the table's row for {:?} cites nothing the pack produces",
            pack.id, row.used_as
        );
        check_words(row);
    }
}

fn check_words(row: &Row) {
    let text = if row.article.starts_with("Law No. 1537, Art. ") {
        TJ_TEXT
    } else if row.article.starts_with("ZRU-547, Art. ") {
        UZ_TEXT
    } else {
        // Another act, not among the sources: only ever a secondary rule, quoting nothing.
        assert!(row.secondary && row.words.is_empty(), "{:?}", row.used_as);
        return;
    };
    assert!(!row.words.is_empty(), "{:?} quotes nothing", row.used_as);
    let numbers = articles(&row.article);
    let bodies: Vec<String> = numbers.iter().map(|n| article_text(text, n)).collect();
    for words in &row.words {
        assert!(
            bodies.iter().any(|body| body.contains(&normal(words))),
            "{:?}: «{words}» is not in {}",
            row.used_as,
            row.article
        );
    }
    // Each article the citation names is one some quotation comes from.
    for (n, body) in numbers.iter().zip(&bodies) {
        assert!(
            row.words.iter().any(|w| body.contains(&normal(w))),
            "{:?}: nothing quoted from Art. {n}",
            row.used_as
        );
    }
}

#[test]
fn every_citation_of_the_tajik_pack_is_in_its_table_and_its_words_in_the_text() {
    walk(&JurisdictionPack::TAJIKISTAN_2018, TJ_TABLE);
}

#[test]
fn every_citation_of_the_uzbek_pack_is_in_its_table_and_its_words_in_the_text() {
    walk(&JurisdictionPack::UZBEKISTAN_2019, UZ_TABLE);
}

/// The walk can fail: a quotation the article does not hold, or a citation the table
/// lacks, is caught.
#[test]
fn a_wrong_quotation_or_a_missing_row_is_caught() {
    let moved = UZ_TABLE.replace("ZRU-547, Art. 11 |", "ZRU-547, Art. 12 |");
    let walked = std::panic::catch_unwind(|| walk(&JurisdictionPack::UZBEKISTAN_2019, &moved));
    assert!(walked.is_err());
    let misquoted = UZ_TABLE.replace("«uch kunlik", "«besh kunlik");
    let walked = std::panic::catch_unwind(|| walk(&JurisdictionPack::UZBEKISTAN_2019, &misquoted));
    assert!(walked.is_err());
    let dropped: String = TJ_TABLE
        .lines()
        .filter(|line| !line.contains("`transfer_notice`"))
        .collect::<Vec<_>>()
        .join("\n");
    let walked = std::panic::catch_unwind(|| walk(&JurisdictionPack::TAJIKISTAN_2018, &dropped));
    assert!(walked.is_err());
}

/// Each citation names its law, so a Tajik article never shows under the Uzbek pack, nor an
/// Uzbek one under the Tajik.
#[test]
fn each_pack_cites_only_its_own_law_and_names_it() {
    let own = |pack: &JurisdictionPack, other: &str| {
        for (place, Citation { article, .. }) in pack.citations() {
            assert!(
                !article.contains(other),
                "{}: {place} cites {article}",
                pack.id
            );
            if article.contains("Art.") && !article.contains("ZRU-1125") {
                assert!(
                    article.starts_with(pack.law),
                    "{}: {place} cites {article}",
                    pack.id
                );
            }
        }
    };
    own(&JurisdictionPack::TAJIKISTAN_2018, "ZRU");
    own(&JurisdictionPack::UZBEKISTAN_2019, "1537");
}

#[test]
fn tajik_bases_without_consent_are_art_12s_closed_list_and_art_17_2() {
    let tj = &JurisdictionPack::TAJIKISTAN_2018;
    assert!(tj.accepts_basis("legal_obligation").is_none());
    assert!(tj.accepts_basis("court_order").is_none());
    assert!(tj.accepts_basis("state_function").is_some());
    assert!(tj.accepts_basis("protection_of_rights").is_some());
    assert!(tj.accepts_basis("biometric_exception").is_some());
    // Three working days are Art. 25.1's, for handing the subject their data.
    assert_eq!(
        tj.subject_request.citation.article,
        "Law No. 1537, Art. 25.1"
    );
    assert_eq!(tj.articles.depersonalised.article, "Law No. 1537, Art. 19");
    assert_eq!(tj.in_force_citation.article, "Law No. 1537, Art. 27");
}

/// README's "The law, as features" names, row by row, the tests that show each rule:
/// every one it names exists, and every row names one.
#[test]
fn every_test_the_readme_law_table_names_exists() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = readme
        .split("## The law, as features")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap();
    let mut sources = String::new();
    for dir in ["tests/suite", "tests"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let rows: Vec<&str> = section
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| rule"))
        .filter(|line| !line.starts_with("| ---"))
        .collect();
    assert!(rows.len() > 20, "{}", rows.len());
    for row in rows {
        let shown_by = row.trim_end_matches('|').rsplit(" | ").next().unwrap();
        let names: Vec<&str> = shown_by.split('`').skip(1).step_by(2).collect();
        assert!(!names.is_empty(), "a row names no test: {row}");
        for name in names {
            if name.starts_with("tests/") {
                assert!(
                    std::path::Path::new(&format!("{root}/{name}")).exists(),
                    "{name}"
                );
            } else {
                assert!(sources.contains(&format!("fn {name}(")), "no test {name}");
            }
        }
    }
}
