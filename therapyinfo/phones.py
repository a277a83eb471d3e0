"""Crisis numbers must be dialable: a wrong digit on a crisis line is the worst
error this site could make. Checked with Google's libphonenumber metadata
(the `phonenumbers` package), which knows short codes such as 988, 999, 112
and 116 123 as well as full numbers.
"""

import phonenumbers

# The countries whose dialling plan each region's numbers follow. A number is
# accepted when it can be dialled in at least one of them.
REGION_COUNTRIES = {
    "United States": ["US"],
    "United Kingdom": ["GB"],
    "England": ["GB"],
    "UK and Ireland": ["GB", "IE"],
    "Ireland": ["IE"],
    "Canada": ["CA"],
    "Australia": ["AU"],
    "New Zealand": ["NZ"],
    "European Union": ["DE", "FR", "IE", "IT", "ES", "NL", "BE", "AT", "PL", "SE"],
}


def dialable(number, countries):
    """Whether `number` is a valid full number or short code in one of `countries`."""
    for country in countries:
        try:
            parsed = phonenumbers.parse(number, country)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
        if phonenumbers.is_valid_short_number_for_region(parsed, country):
            return True
    return False


def crisis_number_errors(region, **numbers):
    """{field: message} for each given number that cannot be dialled in `region`."""
    countries = REGION_COUNTRIES.get(region.strip())
    given = {field: value for field, value in numbers.items() if value}
    if not given:
        return {}
    if countries is None:
        known = ", ".join(sorted(REGION_COUNTRIES))
        return {
            "region": f"Numbers can only be checked for these regions: {known}. "
            "Ask a developer to add a new one to therapyinfo/phones.py."
        }
    return {
        field: f"{value!r} is not a number anyone can dial in {region}. Check every digit "
        "against the service's own website."
        for field, value in given.items()
        if not dialable(value, countries)
    }
