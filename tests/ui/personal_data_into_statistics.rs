// Art. 19: statistics takes depersonalised data only.
use amanat::category::Phone;
use amanat::depersonalize::Statistics;
use amanat::values::PhoneNumber;
use amanat::PersonalData;

fn count(stats: &mut Statistics<String>, phone: PersonalData<PhoneNumber, Phone>) {
    stats.record(phone);
}

fn main() {}
