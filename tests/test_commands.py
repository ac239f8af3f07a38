"""The command table and the flows agree: every command the table lists is answered by a flow,
every command a flow answers is in the table, and each menu shows only what its role may use."""

from __future__ import annotations

from bot.chat.commands import BUTTON_ROLES, COMMAND_ROLES, MENUS, commands_for
from bot.chat.flows import all_flows
from bot.domain.roles import Role


def test_every_command_in_the_table_is_answered_by_exactly_one_flow() -> None:
    answered: dict[str, list[str]] = {}
    for flow in all_flows():
        for name in flow.commands:
            answered.setdefault(name, []).append(flow.name)
    assert set(answered) == set(COMMAND_ROLES), (
        f"in the table only: {sorted(set(COMMAND_ROLES) - set(answered))}; "
        f"answered only: {sorted(set(answered) - set(COMMAND_ROLES))}"
    )
    assert all(len(flows) == 1 for flows in answered.values()), answered


def test_every_button_prefix_has_roles_and_a_flow() -> None:
    prefixes = {prefix for flow in all_flows() for prefix in flow.buttons}
    assert prefixes == set(BUTTON_ROLES)


def test_menus_show_only_what_the_role_may_use_with_a_description() -> None:
    assert set(MENUS) == set(Role)
    for role in Role:
        shown = commands_for(role)
        assert shown, role
        for name, description in shown:
            assert role in COMMAND_ROLES[name] and description.strip()
        assert len({name for name, _ in shown}) == len(shown)
    citizen = {name for name, _ in commands_for(Role.CITIZEN)}
    assert "ghi" not in citizen and "moi" not in citizen and "bhyt" in citizen
