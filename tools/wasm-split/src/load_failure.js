// A chunk that does not load has usually been replaced by a newer deploy of the site (its name
// is its content's hash, and a deploy removes the old files): load the page again from the
// server, which renders it with the new bundle. Once per address, so a chunk missing for another
// reason leaves the page as the server sent it (which works without its code) instead of
// reloading for ever. The Rust side is then never answered: a failed load would abort the module.
const reloadedForCode = "sigra:reloaded-for-code";
function reloadOnce() {
    try {
        if (sessionStorage.getItem(reloadedForCode) === location.href) return false;
        sessionStorage.setItem(reloadedForCode, location.href);
    } catch {
        return false; // without storage a reload could not tell it had happened
    }
    location.reload();
    return true;
}
function wrapAsyncCb(callee) {
    return async (callbackIndex, callbackData) => {
        try {
            await callee();
        } catch (e) {
            console.error(e);
            if (!reloadOnce()) console.error("this page's code could not be loaded; it stays as the server sent it");
            return;
        }
        try {
            sessionStorage.removeItem(reloadedForCode);
        } catch {}
        getSharedImports().__wasm_split.__indirect_function_table.get(callbackIndex)(callbackData, true);
    };
}
