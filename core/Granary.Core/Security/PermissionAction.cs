namespace Granary.Core.Security;

/// <summary>
/// What a principal asks to do to a registry object, named as in Feast's permission model
/// (<c>feast.permissions.action.AuthzedAction</c>): a permission grants a set of these.
/// </summary>
public enum PermissionAction
{
    Create,
    Describe,
    Update,
    Delete,
    ReadOnline,
    ReadOffline,
    WriteOnline,
    WriteOffline,
}
