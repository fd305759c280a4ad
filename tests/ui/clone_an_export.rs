// An export is the subject's data, decrypted, handed out once: it can't be duplicated.
use amanat::store::Export;

fn twice(export: &Export) -> Export {
    export.clone()
}

fn main() {}
