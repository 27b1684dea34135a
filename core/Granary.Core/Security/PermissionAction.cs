namespace Granary.Core.Security;

/// <summary>
/// What a principal asks to do to a registry object, named as in Feast's permission model
/// (<c>feast.permissions.action.AuthzedAction</c>): a permission grants a set of these.
/// </summary>
public enum PermissionAction
{
    /// <summary>Register a new object (<c>apply</c>).</summary>
    Create,
    /// <summary>Read an object's definition (registry listing, catalog).</summary>
    Describe,
    /// <summary>Change an object's definition (<c>apply</c>, <c>rollback</c>).</summary>
    Update,
    /// <summary>Remove an object (<c>apply</c> without it).</summary>
    Delete,
    /// <summary>Read feature values from the online store.</summary>
    ReadOnline,
    /// <summary>Read feature values from the offline store (historical retrieval, parity, drift).</summary>
    ReadOffline,
    /// <summary>Write values to the online store (push, stream ingestion, materialization).</summary>
    WriteOnline,
    /// <summary>Write values to the offline store (push to offline).</summary>
    WriteOffline,
    /// <summary>
    /// Granary's own: erase an entity's values from a feature view (online, offline rows Granary wrote, feature logs).
    /// Not part of Feast's <c>ALL</c>: it must be granted by name.
    /// </summary>
    Erase,
    /// <summary>
    /// Granary's own: read the features of a view tagged <c>pii</c> unmasked (without it they are masked on every read
    /// path). Not part of Feast's <c>ALL</c>: it must be granted by name.
    /// </summary>
    ReadUnmasked,
}
