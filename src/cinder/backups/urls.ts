/** Backup paths, relative to the Cinder endpoint (which already ends in `/v3/<project_id>`). */

const id = encodeURIComponent;

/** `POST /backups`. */
export const backupsUrl = (): string => '/backups';
/** `GET /backups/detail` (detailed list). */
export const backupsDetailUrl = (): string => '/backups/detail';
/** `GET`/`DELETE /backups/{id}`. */
export const backupUrl = (backupId: string): string => `/backups/${id(backupId)}`;
/** `POST /backups/{id}/restore`. */
export const backupRestoreUrl = (backupId: string): string => `/backups/${id(backupId)}/restore`;
/** `GET /os-services` (admin-only by default). */
export const servicesUrl = (): string => '/os-services';
