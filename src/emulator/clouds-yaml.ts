import { stringify } from 'yaml';

/** What {@link cloudsYaml} writes for one project. */
export interface CloudsYamlInput {
  cloudName: string;
  authUrl: string;
  projectName: string;
  username: string;
  password: string;
  applicationCredential?: { id: string; secret: string } | undefined;
}

/**
 * A clouds.yaml document (openstacksdk's format) for the emulator: password auth by default, or
 * an application credential.
 */
export function cloudsYaml(input: CloudsYamlInput): string {
  const common = { region_name: 'RegionOne', interface: 'public', identity_api_version: 3 };
  const entry = input.applicationCredential
    ? {
        auth_type: 'v3applicationcredential',
        auth: {
          auth_url: input.authUrl,
          application_credential_id: input.applicationCredential.id,
          application_credential_secret: input.applicationCredential.secret,
        },
        ...common,
      }
    : {
        auth_type: 'password',
        auth: {
          auth_url: input.authUrl,
          username: input.username,
          password: input.password,
          user_domain_name: 'Default',
          project_name: input.projectName,
          project_domain_name: 'Default',
        },
        ...common,
      };
  return stringify({ clouds: { [input.cloudName]: entry } });
}
